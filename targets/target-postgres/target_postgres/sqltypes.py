"""Column types: from a property's JSON schema, and how an existing column widens to take it.

Types are spelled as Postgres's ``format_type`` reports them, so a column read back from the
catalog compares equal to the type this module asked for. A property's ``x-sql-datatype``
annotation (tap-postgres writes the source column's type there) is taken as the column type
when it names a type whose values travel exactly in JSON (``SOURCE_TYPES``): ``numeric(p,s)``,
``uuid``, typed arrays, ``interval``, ``bytea`` (base64 in JSON), timestamps without zone.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass

BIGINT = "bigint"
DOUBLE = "double precision"
NUMERIC = "numeric"
BOOLEAN = "boolean"
TEXT = "text"
TIMESTAMPTZ = "timestamp with time zone"
DATE = "date"
TIME = "time without time zone"
JSONB = "jsonb"

STRING_FORMATS = {
    "date-time": TIMESTAMPTZ,
    "date": DATE,
    "time": TIME,
    "decimal": NUMERIC,
    "singer.decimal": NUMERIC,
}
SCALARS = {"integer": BIGINT, "boolean": BOOLEAN}

# Pairs of our types and the narrowest type holding the values of both; any other pair of
# different types meets at text. Symmetric: looked up with the pair sorted.
_COMMON = {
    (BIGINT, DOUBLE): DOUBLE,
    (BIGINT, NUMERIC): NUMERIC,
    (DOUBLE, NUMERIC): NUMERIC,
    (DATE, TIMESTAMPTZ): TIMESTAMPTZ,
}
OURS = {BIGINT, DOUBLE, NUMERIC, BOOLEAN, TEXT, TIMESTAMPTZ, DATE, TIME, JSONB}
BYTEA = "bytea"

# Source types taken from ``x-sql-datatype`` as they are (and arrays of them): their JSON
# values (as tap-postgres writes them) are Postgres input text, or base64 for bytea.
_SOURCE_SCALARS = (
    r"smallint|integer|bigint|real|double precision|boolean|text|uuid|date|interval|bytea"
    r"|numeric(\(\d+,\d+\))?|time(\(\d\))? with(out)? time zone"
    r"|timestamp(\(\d\))? with(out)? time zone"
)
SOURCE_TYPES = re.compile(rf"({_SOURCE_SCALARS})(\[\])?")
_FAMILIES = {"smallint": BIGINT, "integer": BIGINT, "real": DOUBLE}
_SCALED_NUMERIC = re.compile(r"numeric\((\d+),(\d+)\)")
# Existing column types that take any value as it is, so never need widening.
ABSORBING = {TEXT, JSONB, "json"}
# Foreign integer and float types (tables made by other loaders, which size integer columns by
# the schema's bounds) widen for fractions; integers that do not fit fail on insert instead.
_FOREIGN_WIDENINGS = {
    ("smallint", DOUBLE),
    ("integer", DOUBLE),
    ("real", DOUBLE),
    ("smallint", NUMERIC),
    ("integer", NUMERIC),
}
# bigint -> double precision is exact only up to 2**53; the loader checks existing values.
LARGEST_EXACT_DOUBLE = 2**53


def numeric_bounds(kind: str) -> tuple[int, int] | None:
    """``(precision, scale)`` of a ``numeric(p,s)`` type, else None."""
    found = _SCALED_NUMERIC.fullmatch(kind)
    return (int(found[1]), int(found[2])) if found else None


def _holds(wide: str, narrow: str) -> bool:
    """Whether numeric type ``wide`` holds every value of numeric type ``narrow``."""
    if wide == NUMERIC:
        return True
    outer, inner = numeric_bounds(wide), numeric_bounds(narrow)
    if outer is None or inner is None:
        return False
    return inner[1] <= outer[1] and inner[0] - inner[1] <= outer[0] - outer[1]


def _family(kind: str) -> str:
    """Our type of the same kind as a source type: ``integer`` -> bigint, ``numeric(p,s)``
    -> numeric, ``real`` -> double precision; others stay."""
    if numeric_bounds(kind):
        return NUMERIC
    return _FAMILIES.get(kind, kind)


def common_type(first: str, second: str) -> str:
    """The narrowest of our types holding every value of both (``numeric(p,s)`` counts as
    numeric, and two of them meet at the one holding both, else at plain numeric)."""
    if first == second:
        return first
    if first.startswith(NUMERIC) and second.startswith(NUMERIC) and "[" not in first + second:
        return first if _holds(first, second) else second if _holds(second, first) else NUMERIC
    first, second = _family(first), _family(second)
    if first == second:
        return first
    low, high = sorted((first, second))
    return _COMMON.get((low, high), TEXT)


def sql_type(schema: t.Any) -> str:
    """Column type for a property's JSON schema (types, nullable unions, anyOf/oneOf)."""
    if not isinstance(schema, dict):
        return JSONB
    declared = schema.get("x-sql-datatype")
    if isinstance(declared, str) and SOURCE_TYPES.fullmatch(declared):
        return declared
    branches = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(branches, list):
        kinds = [sql_type(branch) for branch in branches if not _is_null_schema(branch)]
        return _union(kinds)
    declared = schema.get("type")
    names = [declared] if isinstance(declared, str) else declared
    if not isinstance(names, list):
        return JSONB
    names = [name for name in names if name != "null"]
    if not names or "object" in names or "array" in names:
        return JSONB
    return _union([_scalar(name, schema) for name in names])


def _scalar(name: str, schema: dict[str, t.Any]) -> str:
    if name == "string":
        return STRING_FORMATS.get(schema.get("format", ""), TEXT)
    if name == "number":
        multiple = schema.get("multipleOf")
        exact = isinstance(multiple, int | float) and multiple != int(multiple)
        return NUMERIC if exact or schema.get("format") in STRING_FORMATS else DOUBLE
    return SCALARS.get(name, TEXT)


def _union(kinds: list[str]) -> str:
    if not kinds or JSONB in kinds:
        return JSONB
    result = kinds[0]
    for kind in kinds[1:]:
        result = common_type(result, kind)
    return result


def _is_null_schema(schema: t.Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null"


@dataclass(frozen=True)
class Widening:
    """How to alter an existing column so it takes the values of a new type."""

    new_type: str
    using: str  # SQL template for the conversion, ``{column}`` standing for the column


def widening(existing: str, desired: str) -> Widening | None:
    """The change an existing column needs to hold ``desired`` values, or None if it holds
    them already (Postgres casts them on insert)."""
    if existing == desired or existing in ABSORBING:
        return None
    if numeric_bounds(existing):
        wider = common_type(existing, desired)
        return None if wider == existing else Widening(wider, "{column}::" + wider)
    if existing not in OURS:
        if (existing, desired) in _FOREIGN_WIDENINGS or desired == TEXT:
            return Widening(desired, "{column}::" + desired)
        return None
    new_type = common_type(existing, desired)
    if new_type == existing:
        return None
    if (existing, new_type) == (DOUBLE, NUMERIC):  # via text: float8 -> numeric keeps 15 digits
        return Widening(NUMERIC, "{column}::text::numeric")
    return Widening(new_type, "{column}::" + new_type)
