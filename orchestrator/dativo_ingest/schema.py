"""Plain data (a parsed YAML file) validated into frozen dataclasses, without pydantic.

The files `dativo run` reads (the job, ``dativo.yaml``) are small; pydantic would cost each run
more to import and to build its models than anything else it does before the connectors
start. ``validate(cls, data)`` reads ``cls``'s type hints: ``str``, ``int``, ``float``,
``bool``, ``Any``, ``Literal[...]``, unions (``X | None``), ``list[X]``, ``dict[K, V]``,
nested dataclasses, and ``Annotated[X, ...]`` with the markers below (named tuples: cheaper to
define than dataclasses, and this module loads on every run). Values are coerced as pydantic's
lax mode does (an int where a float is expected, ``"3"`` for an int, ``"yes"`` for a bool); a
key no field names is an error; a dataclass's ``__post_init__`` may raise ValueError (a check
across fields). Every problem is collected, with pydantic's error types and words, so
``problems.reason`` reads both, and pydantic models may hold these dataclasses as fields
(``__pydantic_config__ = STRICT`` forbids unknown keys there too).
"""

from __future__ import annotations

import dataclasses
import functools
import re
import types
import typing
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

T = TypeVar("T")
Loc = tuple[int | str, ...]
STRICT = {"extra": "forbid"}  # a dataclass's __pydantic_config__: unknown keys are errors
_TRUE = {"1", "on", "t", "true", "y", "yes"}
_FALSE = {"0", "off", "f", "false", "n", "no"}


class MinLen(NamedTuple):
    """A string of at least ``length`` characters."""

    length: int


class Pattern(NamedTuple):
    """A string matching the regular expression ``pattern``."""

    pattern: str


class Bound(NamedTuple):
    """A number ``op`` (``gt``, ``ge``, ``le``) ``limit``."""

    op: str
    limit: float


class Check(NamedTuple):
    """``check`` raises ValueError for a value of the right type that is still wrong; the
    dataclass's ``__post_init__`` calls it too, for instances made another way."""

    check: Callable[[Any], None]


class Before(NamedTuple):
    """``convert`` applied to the value before it is checked (e.g. ``"15m"`` -> 900.0)."""

    convert: Callable[[Any], Any]


def alias(name: str) -> dict[str, str]:
    """A field's ``metadata`` giving it a second key, e.g. ``replication-method``."""
    return {"alias": name}


class SchemaError(Exception):
    """Invalid data; ``errors()`` lists each problem as pydantic does: type, loc, msg."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} validation error(s)")
        self.problems = errors

    def errors(self) -> list[dict[str, Any]]:
        return self.problems


def validate(cls: type[T], data: Any) -> T:
    """``data`` as an instance of the dataclass ``cls``; raises SchemaError listing every
    problem."""
    return typing.cast(T, _value(cls, data, ()))


def dump(obj: Any, by_alias: bool = False, exclude_none: bool = False) -> Any:
    """A dataclass instance (and what it holds) as plain dicts and lists."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {}
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if value is None and exclude_none:
                continue
            key = f.metadata.get("alias", f.name) if by_alias else f.name
            out[key] = dump(value, by_alias, exclude_none)
        return out
    if isinstance(obj, list | tuple):
        return [dump(item, by_alias, exclude_none) for item in obj]
    if isinstance(obj, dict):
        return {key: dump(value, by_alias, exclude_none) for key, value in obj.items()}
    return obj


def field_keys(cls: type) -> dict[str, str]:
    """Every key ``cls`` accepts (field names and aliases) -> its field's name."""
    keys = {}
    for f in dataclasses.fields(cls):
        keys[f.name] = f.name
        if "alias" in f.metadata:
            keys[f.metadata["alias"]] = f.name
    return keys


def _error(kind: str, loc: Loc, msg: str) -> SchemaError:
    return SchemaError([{"type": kind, "loc": loc, "msg": msg}])


def _value(tp: Any, value: Any, loc: Loc) -> Any:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _annotated(tp, value, loc)
    if tp is Any:
        return value
    if origin is typing.Literal:
        return _literal(typing.get_args(tp), value, loc)
    if origin in (typing.Union, types.UnionType):
        return _union(typing.get_args(tp), value, loc)
    if origin is list:
        return _list(typing.get_args(tp)[0], value, loc)
    if origin is dict:
        key_type, value_type = typing.get_args(tp)
        return _dict(key_type, value_type, value, loc)
    if dataclasses.is_dataclass(tp):
        return _dataclass(typing.cast(type, tp), value, loc)
    return _SCALARS[tp](value, loc)


def _annotated(tp: Any, value: Any, loc: Loc) -> Any:
    inner, *marks = typing.get_args(tp)
    for mark in marks:
        if isinstance(mark, Before):
            value = mark.convert(value)
    value = _value(inner, value, loc)
    for mark in marks:
        _constraint(mark, value, loc)
    return value


def _constraint(mark: Any, value: Any, loc: Loc) -> None:
    if isinstance(mark, MinLen) and len(value) < mark.length:
        unit = "character" if mark.length == 1 else "characters"
        raise _error("string_too_short", loc, f"String should have at least {mark.length} {unit}")
    if isinstance(mark, Pattern) and not re.search(mark.pattern, value):
        raise _error(
            "string_pattern_mismatch", loc, f"String should match pattern '{mark.pattern}'"
        )
    if isinstance(mark, Check):
        try:
            mark.check(value)
        except ValueError as exc:
            raise _error("value_error", loc, f"Value error, {exc}") from None
    if isinstance(mark, Bound) and not _BOUNDS[mark.op][0](value, mark.limit):
        kind, words = _BOUNDS[mark.op][1:]
        raise _error(kind, loc, f"Input should be {words} {mark.limit:g}")


_BOUNDS: dict[str, tuple[Callable[[Any, Any], bool], str, str]] = {
    "gt": (lambda v, limit: v > limit, "greater_than", "greater than"),
    "ge": (lambda v, limit: v >= limit, "greater_than_equal", "greater than or equal to"),
    "le": (lambda v, limit: v <= limit, "less_than_equal", "less than or equal to"),
}


def _literal(choices: tuple[Any, ...], value: Any, loc: Loc) -> Any:
    if value in choices and not isinstance(value, bool | dict | list):
        return value
    words = [repr(c) for c in choices]
    expected = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
    raise _error("literal_error", loc, f"Input should be {expected}")


def _union(members: tuple[Any, ...], value: Any, loc: Loc) -> Any:
    options = [m for m in members if m is not type(None)]
    if value is None and len(options) < len(members):
        return None
    if len(options) == 1:
        return _value(options[0], value, loc)
    errors = []
    for member in options:
        try:
            return _value(member, value, loc)
        except SchemaError as exc:
            errors += [
                {**e, "loc": (*loc, _label(member), *e["loc"][len(loc) :])} for e in exc.problems
            ]
    raise SchemaError(errors)


def _label(tp: Any) -> str:
    """pydantic's name of a union member, in the key path of its errors."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Annotated:
        return f"constrained-{_label(args[0])}"
    if origin in (list, dict):
        return f"{origin.__name__}[{','.join(_label(a) for a in args)}]"
    return getattr(tp, "__name__", str(tp))


def _list(item: Any, value: Any, loc: Loc) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise _error("list_type", loc, "Input should be a valid list")
    out, errors = [], []
    for index, element in enumerate(value):
        try:
            out.append(_value(item, element, (*loc, index)))
        except SchemaError as exc:
            errors += exc.problems
    if errors:
        raise SchemaError(errors)
    return out


def _dict(key_type: Any, value_type: Any, value: Any, loc: Loc) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise _error("dict_type", loc, "Input should be a valid dictionary")
    out, errors = {}, []
    for key, element in value.items():
        try:
            checked = _value(key_type, key, (*loc, key, "[key]"))
            out[checked] = _value(value_type, element, (*loc, key))
        except SchemaError as exc:
            errors += exc.problems
    if errors:
        raise SchemaError(errors)
    return out


def _dataclass(cls: type, value: Any, loc: Loc) -> Any:
    if isinstance(value, cls):
        return value
    if not isinstance(value, dict):
        raise _error(
            "model_type", loc, f"Input should be a valid dictionary or instance of {cls.__name__}"
        )
    hints, keys = _hints(cls), field_keys(cls)
    given = {keys[k]: v for k, v in value.items() if isinstance(k, str) and k in keys}
    values, errors = {}, []
    for f in dataclasses.fields(cls):
        key = f.metadata.get("alias", f.name)  # where a problem is reported, as pydantic does
        if f.name in given:
            try:
                values[f.name] = _value(hints[f.name], given[f.name], (*loc, key))
            except SchemaError as exc:
                errors += exc.problems
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            errors.append({"type": "missing", "loc": (*loc, key), "msg": "Field required"})
    errors += [
        {"type": "extra_forbidden", "loc": (*loc, k), "msg": "Extra inputs are not permitted"}
        for k in value
        if k not in keys
    ]
    if errors:
        raise SchemaError(errors)
    try:
        return cls(**values)
    except ValueError as exc:
        raise _error("value_error", loc, f"Value error, {exc}") from None


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, include_extras=True)


def _str(value: Any, loc: Loc) -> str:
    if isinstance(value, str):
        return value
    raise _error("string_type", loc, "Input should be a valid string")


def _int(value: Any, loc: Loc) -> int:
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise _error(
            "int_from_float",
            loc,
            "Input should be a valid integer, got a number with a fractional part",
        )
    if isinstance(value, str):
        return _parsed(int, value, loc, "int_parsing", "a valid integer", "an integer")
    raise _error("int_type", loc, "Input should be a valid integer")


def _float(value: Any, loc: Loc) -> float:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return _parsed(float, value, loc, "float_parsing", "a valid number", "a number")
    raise _error("float_type", loc, "Input should be a valid number")


def _parsed(parse: Callable[[str], T], text: str, loc: Loc, kind: str, valid: str, as_: str) -> T:
    """``text`` (spaces around it ignored) parsed, or pydantic's error for a string that is
    not ``valid``."""
    try:
        return parse(text.strip())
    except ValueError:
        message = f"Input should be {valid}, unable to parse string as {as_}"
        raise _error(kind, loc, message) from None


def _bool(value: Any, loc: Loc) -> bool:
    if isinstance(value, bool):
        return value
    if not isinstance(value, int | float | str):
        raise _error("bool_type", loc, "Input should be a valid boolean")
    word = value.lower() if isinstance(value, str) else value
    if word in _TRUE or word == 1:
        return True
    if word in _FALSE or word == 0:
        return False
    raise _error("bool_parsing", loc, "Input should be a valid boolean, unable to interpret input")


_SCALARS: dict[Any, Callable[[Any, Loc], Any]] = {str: _str, int: _int, float: _float, bool: _bool}
