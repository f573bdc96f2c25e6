"""A fast, hand-written check of records against a stream's JSON schema (``validate_records``).

The schema is compiled once per SCHEMA message into nested closures. They check JSON types
(``type``, unions, ``anyOf``/``oneOf``), ``required`` fields, ``properties`` and ``items`` at any
depth, and ``format: date-time`` strings. Other keywords are not checked. An integral float
(``1.0``) passes as an integer, as JSON Schema says. A decimal field's number is kept as the
text received (an ``orjson.Fragment``), or is one of the strings ``NaN``, ``Infinity``,
``-Infinity``.
"""

from __future__ import annotations

import typing as t
from datetime import datetime

import orjson

from dativo_connector_kit.decimals import SPECIAL_NUMBERS, is_decimal

Problem = tuple[str, str]
"""Where a value went wrong (a field path such as ``items[2].sku``, ``""`` for the value
itself) and how."""

Check = t.Callable[[t.Any], Problem | None]

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float, orjson.Fragment),
    "boolean": (bool,),
    "null": (type(None),),
    "object": (dict,),
    "array": (list,),
}
_JSON_NAMES = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    type(None): "null",
    dict: "object",
    list: "array",
}


def compile_check(schema: object) -> Check | None:
    """Compile ``schema``; None when it accepts any value."""
    if not isinstance(schema, dict):
        return None
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(alternatives, list):
        return _any_of(alternatives)
    names = _type_names(schema.get("type"))
    allowed = None if names is None else frozenset(k for n in names for k in _PYTHON_TYPES[n])
    properties = schema.get("properties")
    fields = {
        name: check
        for name, sub in (properties.items() if isinstance(properties, dict) else ())
        if (check := compile_check(sub)) is not None
    }
    required = tuple(name for name in schema.get("required") or () if isinstance(name, str))
    items = compile_check(schema.get("items"))
    date_time = schema.get("format") == "date-time"
    if allowed is None and not (fields or required or items or date_time):
        return None
    integral_floats = names is not None and "integer" in names and "number" not in names
    specials = SPECIAL_NUMBERS if is_decimal(schema) else frozenset()
    expected = " or ".join(names or ())

    def check(value: t.Any) -> Problem | None:
        kind = type(value)
        if allowed is not None and kind not in allowed:
            if not (integral_floats and kind is float and value.is_integer()) and not (
                kind is str and value in specials
            ):
                return "", f"expected {expected}, got {_describe(value)}"
        elif kind is str:
            if date_time and not _is_date_time(value):
                return "", f"expected a date-time string, got {_describe(value)}"
        elif kind is dict:
            for name in required:
                if name not in value:
                    return name, "is required but missing"
            for name, field in fields.items():
                if name in value and (problem := field(value[name])) is not None:
                    return _join(name, problem)
        elif kind is list and items is not None:
            for index, item in enumerate(value):
                if (problem := items(item)) is not None:
                    return _join(f"[{index}]", problem)
        return None

    return check


def _any_of(alternatives: list[object]) -> Check | None:
    checks = [compile_check(alternative) for alternative in alternatives]
    if any(check is None for check in checks):
        return None
    compiled = t.cast("list[Check]", checks)

    def check(value: object) -> Problem | None:
        problems = [problem for check in compiled if (problem := check(value)) is not None]
        if len(problems) < len(compiled):
            return None
        reasons = "; ".join(f"{path}: {how}" if path else how for path, how in problems)
        return "", f"matches no alternative of anyOf/oneOf ({reasons})"

    return check


def _type_names(declared: object) -> list[str] | None:
    """The known JSON type names of a ``type`` keyword; None when it allows any type."""
    names = [declared] if isinstance(declared, str) else declared
    if not isinstance(names, list):
        return None
    known = [name for name in names if name in _PYTHON_TYPES]
    return known if known and len(known) == len(names) else None


def _is_date_time(text: str) -> bool:
    """An ISO 8601 date and time (the offset may be missing): ``2024-01-31T12:00:00Z``."""
    if len(text) < 13 or text[10] not in "Tt ":
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _join(name: str, problem: Problem) -> Problem:
    path, how = problem
    if not path:
        return name, how
    return (f"{name}{path}" if path.startswith("[") else f"{name}.{path}"), how


def _describe(value: object) -> str:
    text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{_JSON_NAMES.get(type(value), type(value).__name__)} {text}"
