"""Decimals read exactly: the digits a record's declared-decimal fields arrived with.

orjson, the targets' fast JSON reader, turns every number with a fraction or an exponent (and
every integer beyond 64 bits) into a binary float, which rounds ``12345678901234567890.12``.
Only the fields a schema declares decimal need their digits: ``exact_decimals`` takes the
record orjson made and replaces those fields' float values by ``make(<the number's text>)``.

The text is found in the raw line with one small regular expression per field:
``"<name>":<number>``. A JSON string cannot hold an unescaped ``"`` so the pattern can only
match a key. If it matches other than once (the name is also a key in a nested object), or the
text found is not the number orjson read (the field's own key is spelled with escapes), or
the value is a list, the line is decoded again with the standard library, numbers exact,
which is slower but always right.
"""

from __future__ import annotations

import json
import re
import typing as t

import orjson

if t.TYPE_CHECKING:
    from collections.abc import Callable, Mapping

T = t.TypeVar("T")

# Postgres renders the numeric values JSON cannot write as these strings.
SPECIAL_NUMBERS = frozenset({"NaN", "Infinity", "-Infinity"})
_NUMBER = rb"(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
_DECIMAL_SQL = re.compile(r"numeric(\(\d+,-?\d+\))?(\[\])?$")


def is_decimal(schema: object) -> bool:
    """Whether a property's JSON schema declares exact decimals: ``x-sql-datatype`` numeric
    (``numeric``, ``numeric(p,s)`` or their arrays), or a fractional ``multipleOf``."""
    if not isinstance(schema, dict):
        return False
    declared = schema.get("x-sql-datatype")
    if isinstance(declared, str):
        return _DECIMAL_SQL.match(declared.replace(" ", "")) is not None
    multiple = schema.get("multipleOf")
    return isinstance(multiple, int | float) and multiple != int(multiple)


def decimal_fields(properties: Mapping[str, object]) -> tuple[str, ...]:
    """The names of the properties declared decimal (see ``is_decimal``)."""
    return tuple(name for name, schema in properties.items() if is_decimal(schema))


class DecimalReader(t.NamedTuple, t.Generic[T]):
    """Reads a stream's decimal fields exactly; ``make`` turns a number's text into a value.
    (A named tuple: quick to define at start-up, which is part of every run.)"""

    fields: tuple[str, ...]
    make: Callable[[str], T]
    patterns: tuple[re.Pattern[bytes], ...]

    @classmethod
    def for_fields(cls, fields: tuple[str, ...], make: Callable[[str], T]) -> DecimalReader[T]:
        patterns = tuple(
            re.compile(re.escape(orjson.dumps(name)) + rb"\s*:\s*" + _NUMBER) for name in fields
        )
        return cls(fields, make, patterns)

    def exact(self, line: bytes, record: dict[str, t.Any]) -> dict[str, t.Any]:
        """``record`` (as orjson read it from ``line``) with exact decimal fields; ``line``
        is the whole message, or the record's own JSON."""
        for name, pattern in zip(self.fields, self.patterns, strict=True):
            value = record.get(name)
            kind = type(value)
            if kind is float:
                found = pattern.findall(line)
                if len(found) != 1 or float(found[0]) != value:
                    return self._slow(line, record)
                record[name] = self.make(found[0].decode())
            elif kind is list:
                return self._slow(line, record)
        return record

    def _slow(self, line: bytes, record: dict[str, t.Any]) -> dict[str, t.Any]:
        """Decode ``line`` again with exact numbers; take the decimal fields from it."""
        make = self.make
        parsed = json.loads(line, parse_float=make, parse_int=make)
        if parsed.get("type") == "RECORD" and isinstance(parsed.get("record"), dict):
            parsed = parsed["record"]  # a message; else the line is the record itself
        for name in self.fields:
            if name in record:
                record[name] = parsed[name]
        return record
