"""Column types: their JSON schema, the conversion of CSV text to them, and inference.

Converted values are int, float, bool, str (dates as canonical ISO strings) and, for
date-times, timezone-aware datetimes in UTC (naive ones are taken as UTC), which orjson
writes as RFC 3339 (``2024-05-01T12:00:00+00:00``, microseconds only when not zero). Within a
column, values (and a bookmark converted the same way) compare in their natural order.
"""

from __future__ import annotations

import re
import typing as t
from datetime import UTC, date, datetime

COLUMN_TYPES = ("integer", "number", "boolean", "date", "date-time", "string")
INFERENCE_ORDER = COLUMN_TYPES[:-1]  # the first type every sampled value fits wins

Converter = t.Callable[[str], t.Any]

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
BOOLEANS = {
    **dict.fromkeys(("true", "t", "yes", "y", "1"), True),
    **dict.fromkeys(("false", "f", "no", "n", "0"), False),
}

_JSON_SCHEMAS: dict[str, dict[str, t.Any]] = {
    "integer": {"type": ["integer", "null"]},
    "number": {"type": ["number", "null"]},
    "boolean": {"type": ["boolean", "null"]},
    "date": {"type": ["string", "null"], "format": "date"},
    "date-time": {"type": ["string", "null"], "format": "date-time"},
    "string": {"type": ["string", "null"]},
}


def json_schema(column_type: str) -> dict[str, t.Any]:
    """The JSON schema of a column of this type (always nullable)."""
    return dict(_JSON_SCHEMAS[column_type])


def to_integer(text: str) -> int:
    value = int(text)
    if INT64_MIN <= value <= INT64_MAX:
        return value
    raise ValueError("outside the 64-bit integer range")


def to_boolean(text: str) -> bool:
    try:
        return BOOLEANS[text]
    except KeyError:
        pass
    try:
        return BOOLEANS[text.strip().lower()]
    except KeyError:
        raise ValueError("not a boolean") from None


def to_date(text: str) -> str:
    return date.fromisoformat(text).isoformat()


def to_date_time(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if value.tzinfo is UTC:
        return value
    return value.astimezone(UTC)


_CONVERTERS: dict[str, Converter | None] = {
    "integer": to_integer,
    "number": float,  # NaN and infinities are written as null
    "boolean": to_boolean,
    "date": to_date,
    "date-time": to_date_time,
    "string": None,  # kept as read
}


def converter(column_type: str) -> Converter | None:
    """The function turning non-empty CSV text into the type; None for strings."""
    return _CONVERTERS[column_type]


# Inference is stricter than conversion: "007" stays a string, "1" is no boolean.
_SHAPES = {
    "integer": re.compile(r"[+-]?(?:0|[1-9][0-9]*)"),
    "number": re.compile(r"[+-]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"),
    "boolean": re.compile(r"(?i:true|false)"),
    "date": re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"),
    "date-time": re.compile(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
        r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?"
    ),
}


def _fits(column_type: str, text: str) -> bool:
    if not _SHAPES[column_type].fullmatch(text):
        return False
    if column_type == "number" and _SHAPES["integer"].fullmatch(text):
        return _fits("integer", text)  # a wider integer stays a string, not a lossy float
    convert = _CONVERTERS[column_type]
    try:
        convert(text)  # type: ignore[misc]  # every inferred type has a converter
    except ValueError:
        return False
    return True


class TypeInference:
    """Narrows each column's possible types as sample values arrive."""

    def __init__(self, columns: t.Sequence[str]) -> None:
        self._candidates = {column: set(INFERENCE_ORDER) for column in columns}
        self._seen: set[str] = set()

    def add(self, column: str, text: str) -> None:
        """Account for one value; empty values are null and fit every type."""
        if not text:
            return
        self._seen.add(column)
        candidates = self._candidates[column]
        candidates.difference_update([kind for kind in candidates if not _fits(kind, text)])

    def result(self) -> dict[str, str]:
        """Each column's first fitting type in ``INFERENCE_ORDER``; string when none fits
        or the sample held no value."""
        return {
            column: next(
                (kind for kind in INFERENCE_ORDER if kind in candidates and column in self._seen),
                "string",
            )
            for column, candidates in self._candidates.items()
        }
