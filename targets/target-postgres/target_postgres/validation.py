"""``validate_records``: records checked against their stream's JSON schema, property by
property: ``required`` properties present, then each property present checked for its JSON
types (with ``anyOf``/``oneOf``) and the ``date-time``, ``date`` and ``time`` formats. A
property left out is fine unless required (as JSON Schema has it). Decimal fields arrive as
``Decimal``, and may be ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``. Each property's check is
compiled once per SCHEMA, so a record costs a few set lookups."""

from __future__ import annotations

import typing as t
from datetime import date, datetime, time
from decimal import Decimal

from dativo_connector_kit.decimals import SPECIAL_NUMBERS, is_decimal

if t.TYPE_CHECKING:
    from collections.abc import Callable

Check = t.Callable[[object], str | None]

_PYTHON_TYPES: dict[str, frozenset[type]] = {
    "null": frozenset({type(None)}),
    "string": frozenset({str}),
    "integer": frozenset({int}),  # not bool: type(True) is bool
    "number": frozenset({int, float, Decimal}),
    "boolean": frozenset({bool}),
    "object": frozenset({dict}),
    "array": frozenset({list}),
}
_PARSERS: dict[str, Callable[[str], object]] = {
    "date-time": datetime.fromisoformat,
    "date": date.fromisoformat,
    "time": time.fromisoformat,
}


class RecordValidator:
    """Checks records against the ``properties`` of a stream's schema."""

    def __init__(self, properties: dict[str, t.Any], required: t.Sequence[str] = ()) -> None:
        """Compile a check for every property."""
        self._checks = [(name, _compile(schema)) for name, schema in properties.items()]
        self._required = tuple(required)

    def problem(self, record: dict[str, t.Any]) -> tuple[str, str] | None:
        """``(field, why)`` for the first property whose value does not fit, or None."""
        for name in self._required:
            if name not in record:
                return name, "is required but missing"
        for name, check in self._checks:
            if name in record and (problem := check(record[name])):
                return name, problem
        return None


def _compile(schema: t.Any) -> Check:
    if not isinstance(schema, dict):
        return _accept
    branches = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(branches, list):
        return _any_of([_compile(branch) for branch in branches])
    declared = schema.get("type")
    names = [declared] if isinstance(declared, str) else declared
    allowed: frozenset[type] | None = None
    if isinstance(names, list) and names and all(name in _PYTHON_TYPES for name in names):
        allowed = frozenset().union(*(_PYTHON_TYPES[name] for name in names))
    expected = " or ".join(map(str, names)) if allowed else ""
    parse = _PARSERS.get(schema.get("format", ""))
    form = schema.get("format")
    specials = SPECIAL_NUMBERS if is_decimal(schema) else frozenset()

    def check(value: object) -> str | None:
        if (
            allowed is not None
            and type(value) not in allowed
            and not (type(value) is str and value in specials)
        ):
            return f"{_show(value)} is not of type {expected}"
        if parse is not None and type(value) is str:
            try:
                parse(value)
            except ValueError:
                return f"{_show(value)} is not a valid {form}"
        return None

    return check


def _any_of(branches: list[Check]) -> Check:
    if not branches:
        return _accept

    def check(value: object) -> str | None:
        problems = [branch(value) for branch in branches]
        return None if None in problems else f"fits none of its anyOf/oneOf schemas ({problems[0]})"

    return check


def _accept(_value: object) -> None:
    return None


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
