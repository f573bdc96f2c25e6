"""Singer JSON schemas -> Parquet columns: each field's kind and Arrow type, and how they widen.

Kinds, and the Arrow type each is stored as:

| kind | from the JSON schema | Arrow type |
| --- | --- | --- |
| INTEGER | `integer` | int64 |
| NUMBER | `number` (or a union of integer and number) | float64 |
| BOOLEAN | `boolean` | bool |
| STRING | `string` | string |
| DECIMAL | `number` + `x-sql-datatype: numeric(p,s)` | decimal128(p, s); decimal256 if p > 38 |
| DECIMAL_TEXT | `number` + `x-sql-datatype: numeric` | string: the exact digits, or `NaN` |
| TIMESTAMP | `string` + `format: date-time` | timestamp[us, tz=UTC] |
| LOCAL_TIMESTAMP | ... + `x-sql-datatype: timestamp without time zone` | timestamp[us] |
| DATE | `string` + `format: date` | date32 |
| TIME | `string` + `format: time` | time64[us] |
| UUID | `string`, `format: uuid`, `x-sql-datatype: uuid` | uuid (Arrow extension) |
| BINARY | `string` + `contentEncoding: base64` | binary |
| NESTED | `array` of typed items; `object` with `properties` (not `nested_as_json`) | list/struct |
| JSON | `object` (`nested_as_json`), untyped fields, unions of unrelated types | string (JSON) |
| TEXT | a field widened to string | string: strings as is, other values as JSON |
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass
from enum import Enum

import pyarrow as pa

from target_parquet.errors import SchemaError


class Kind(Enum):
    """How a field's values are converted; see the module docstring."""

    INTEGER = "integer"
    NUMBER = "number"
    DECIMAL = "decimal"
    DECIMAL_TEXT = "numeric"
    LOCAL_TIMESTAMP = "timestamp"
    TIME = "time"
    BINARY = "binary"
    UUID = "uuid"
    BOOLEAN = "boolean"
    STRING = "string"
    TEXT = "text"
    TIMESTAMP = "date-time"
    DATE = "date"
    NESTED = "nested"
    JSON = "json"


TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")
ARROW_TYPES: dict[Kind, pa.DataType] = {
    Kind.INTEGER: pa.int64(),
    Kind.NUMBER: pa.float64(),
    Kind.BOOLEAN: pa.bool_(),
    Kind.STRING: pa.string(),
    Kind.TEXT: pa.string(),
    Kind.TIMESTAMP: TIMESTAMP_TYPE,
    Kind.DATE: pa.date32(),
    Kind.JSON: pa.string(),
    Kind.DECIMAL_TEXT: pa.string(),
    Kind.LOCAL_TIMESTAMP: pa.timestamp("us"),
    Kind.TIME: pa.time64("us"),
    Kind.BINARY: pa.binary(),
    Kind.UUID: pa.uuid(),
}
_SCALED_NUMERIC = re.compile(r"numeric\((\d+),(\d+)\)")
MAX_DECIMAL128_DIGITS = 38
SCALARS = frozenset(
    {Kind.INTEGER, Kind.NUMBER, Kind.BOOLEAN, Kind.STRING, Kind.TEXT, Kind.TIMESTAMP, Kind.DATE}
)
_NESTED_SCALARS = {
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "string": pa.string(),
}
WIDENING_RULES = "integer -> number; integer, number, boolean, date, date-time -> string"


@dataclass(frozen=True)
class Column:
    """One field of a stream: name, kind, Arrow type, and whether its schema allows null."""

    name: str
    kind: Kind
    arrow_type: pa.DataType
    nullable: bool = True

    def describe(self) -> str:
        """The type as messages show it: ``integer``, ``date-time``, ``list<item: string>``."""
        shown_as_arrow = self.kind in (Kind.NESTED, Kind.DECIMAL)
        return str(self.arrow_type) if shown_as_arrow else self.kind.value


Shape = tuple[Kind, pa.DataType]


def columns_from_schema(schema: t.Any, nested_as_json: bool) -> dict[str, Column]:
    """Map a SCHEMA message's ``schema`` to columns, in the order of its properties."""
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict) or not properties:
        raise SchemaError('"schema" must be an object with a non-empty "properties" object')
    columns = {}
    for name, spec in properties.items():
        if not isinstance(spec, dict):
            raise SchemaError(f"property {name!r} must be a JSON schema object")
        columns[name] = _column(name, spec, nested_as_json)
    return columns


def merge(old: dict[str, Column], new: dict[str, Column]) -> dict[str, Column]:
    """The columns after a SCHEMA change: old fields kept (as nullable), types widened, new
    fields appended. Raise ``SchemaError`` naming every field whose type cannot widen."""
    merged: dict[str, Column] = {}
    problems = []
    for name, column in old.items():
        other = new.get(name)
        if other is None:
            merged[name] = Column(name, column.kind, column.arrow_type, nullable=True)
            continue
        shape = join((column.kind, column.arrow_type), (other.kind, other.arrow_type))
        if shape is None:
            problems.append(
                f"field {name!r} changed from {column.describe()} to {other.describe()}"
            )
        else:
            merged[name] = Column(name, *shape, nullable=column.nullable or other.nullable)
    if problems:
        raise SchemaError(
            f"{'; '.join(problems)}: a type can only widen ({WIDENING_RULES}); "
            "write the stream to a new destination to change it"
        )
    merged.update((name, column) for name, column in new.items() if name not in old)
    return merged


def join(first: Shape, second: Shape) -> Shape | None:
    """The narrowest shape holding the values of both, or None when there is none."""
    if first[0] is second[0] and first[1] == second[1]:
        return first
    kinds = {first[0], second[0]}
    if kinds == {Kind.INTEGER, Kind.NUMBER}:
        return Kind.NUMBER, ARROW_TYPES[Kind.NUMBER]
    if kinds <= SCALARS and kinds & {Kind.STRING, Kind.TEXT}:
        return Kind.TEXT, ARROW_TYPES[Kind.TEXT]
    if kinds == {Kind.NESTED}:
        nested = _join_nested(first[1], second[1])
        return None if nested is None else (Kind.NESTED, nested)
    return None


def _column(name: str, spec: dict[str, t.Any], nested_as_json: bool) -> Column:
    alternatives = _alternatives(spec)
    nullable = any(alt.get("type") in ("null", None) for alt in alternatives)  # untyped: any
    shapes = [
        _shape(name, alt, nested_as_json) for alt in alternatives if alt.get("type") != "null"
    ]
    if not shapes:
        return Column(name, Kind.JSON, ARROW_TYPES[Kind.JSON], nullable=True)
    shape: Shape | None = shapes[0]
    for other in shapes[1:]:
        shape = join(shape, other) if shape is not None else None
    if shape is None:  # a union of unrelated types: any of them fits in JSON
        shape = Kind.JSON, ARROW_TYPES[Kind.JSON]
    return Column(name, *shape, nullable=nullable)


def _alternatives(spec: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """Split a schema into single-type alternatives (``type`` lists, ``anyOf``, ``oneOf``)."""
    for union in ("anyOf", "oneOf"):
        if isinstance(spec.get(union), list):
            subs = [sub for sub in spec[union] if isinstance(sub, dict)]
            return [alt for sub in subs for alt in _alternatives(sub)]
    types = spec.get("type")
    if isinstance(types, str):
        return [spec]
    if isinstance(types, list):
        return [{**spec, "type": name} for name in types]
    return [{key: value for key, value in spec.items() if key != "type"}]


def _shape(name: str, alt: dict[str, t.Any], nested_as_json: bool) -> Shape:
    kind = alt.get("type")
    if kind is None:
        return Kind.JSON, ARROW_TYPES[Kind.JSON]
    if kind == "string":
        scalar = _string_kind(alt)
        return scalar, ARROW_TYPES[scalar]
    if kind == "number" and (decimal := _decimal_shape(alt.get("x-sql-datatype"))):
        return decimal
    if kind in ("integer", "number", "boolean"):
        return Kind(kind), ARROW_TYPES[Kind(kind)]
    if kind in ("object", "array"):
        nested = _nested_type(alt, nested_as_json)
        if nested is None:
            return Kind.JSON, ARROW_TYPES[Kind.JSON]
        return Kind.NESTED, nested
    raise SchemaError(f"property {name!r} has unknown type {kind!r}")


def _string_kind(alt: dict[str, t.Any]) -> Kind:
    if alt.get("contentEncoding") == "base64":
        return Kind.BINARY
    form, declared = alt.get("format"), alt.get("x-sql-datatype", "")
    if form == "date-time" and declared.startswith("timestamp without"):
        return Kind.LOCAL_TIMESTAMP
    if form == "uuid" and declared == "uuid":
        return Kind.UUID
    return {"date-time": Kind.TIMESTAMP, "date": Kind.DATE, "time": Kind.TIME}.get(
        form, Kind.STRING
    )


def _decimal_shape(declared: object) -> Shape | None:
    """decimal128/256 for ``numeric(p,s)``, exact text for ``numeric``; None for others."""
    if declared == "numeric":
        return Kind.DECIMAL_TEXT, ARROW_TYPES[Kind.DECIMAL_TEXT]
    found = _SCALED_NUMERIC.fullmatch(declared) if isinstance(declared, str) else None
    if found is None:
        return None
    precision, scale = int(found[1]), int(found[2])
    decimal = pa.decimal128 if precision <= MAX_DECIMAL128_DIGITS else pa.decimal256
    return Kind.DECIMAL, decimal(precision, scale)


def _nested_type(spec: t.Any, nested_as_json: bool) -> pa.DataType | None:
    """The Arrow type of a value inside a list or struct, or None when only JSON can hold it."""
    if not isinstance(spec, dict):
        return None
    found = None
    for alt in _alternatives(spec):
        kind = alt.get("type")
        if kind == "null":
            continue
        if kind in _NESTED_SCALARS:
            arrow = _NESTED_SCALARS[kind]
        elif kind == "array":
            item = _nested_type(alt.get("items"), nested_as_json)
            arrow = None if item is None else pa.list_(item)
        elif kind == "object" and not nested_as_json:
            arrow = _struct_type(alt.get("properties"), nested_as_json)
        else:
            arrow = None
        if arrow is None:
            return None
        found = arrow if found is None else _join_nested(found, arrow)
        if found is None:
            return None
    return found


def _struct_type(properties: t.Any, nested_as_json: bool) -> pa.DataType | None:
    if not isinstance(properties, dict) or not properties:
        return None
    fields = []
    for name, spec in properties.items():
        arrow = _nested_type(spec, nested_as_json)
        if arrow is None:
            return None
        fields.append(pa.field(name, arrow))
    return pa.struct(fields)


def _join_nested(first: pa.DataType, second: pa.DataType) -> pa.DataType | None:
    if first == second:
        return first
    if {first, second} == {pa.int64(), pa.float64()}:
        return pa.float64()
    if pa.types.is_list(first) and pa.types.is_list(second):
        item = _join_nested(first.value_type, second.value_type)
        return None if item is None else pa.list_(item)
    if pa.types.is_struct(first) and pa.types.is_struct(second):
        fields = {field.name: field.type for field in first}
        for field in second:
            joined = (
                _join_nested(fields[field.name], field.type) if field.name in fields else field.type
            )
            if joined is None:
                return None
            fields[field.name] = joined
        return pa.struct(list(fields.items()))
    return None
