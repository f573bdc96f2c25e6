"""Postgres column types -> JSON Schema, and the SQL that renders each value as JSON.

Postgres renders records itself (``row_to_json``), so a value is rendered the way Postgres
turns that type into JSON; a few types get an expression first (``bytea`` -> base64, ``money``
-> numeric). ``numeric`` values reach the output as the exact JSON number literal Postgres
prints, never through a binary float; the values JSON has no number for (``NaN``,
``Infinity``, ``-Infinity`` of numeric and float columns) are the strings Postgres writes.

Every property carries the column's base type as SQL in ``x-sql-datatype`` (``numeric(30,10)``,
``uuid``, ``integer[]``, ``timestamp without time zone``; ``money``, rendered as numeric,
says ``numeric``), the annotation the Singer SDK reads,
so a target can create the very same type; the JSON types stay what any Singer target expects
(``number`` for numerics: a ``multipleOf`` would make JSON Schema validators refuse exact
values such as 0.29, which is not a float multiple of 1e-10).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from psycopg import sql

INTEGER_TYPES = frozenset({"int2", "int4", "int8"})
DECIMAL_TYPES = frozenset({"numeric", "float4", "float8", "money"})
# Types advertised as `valid-replication-keys`: ordered, exact, and rendered as sortable JSON.
TEMPORAL_KEY_TYPES = frozenset({"date", "timestamp", "timestamptz"})
REPLICATION_KEY_TYPES = INTEGER_TYPES | TEMPORAL_KEY_TYPES
ANY_JSON = ("object", "array", "string", "number", "boolean", "null")

_SCHEMAS: dict[str, dict[str, t.Any]] = {
    **{name: {"type": "integer"} for name in INTEGER_TYPES},
    **{name: {"type": "number"} for name in DECIMAL_TYPES},
    "bool": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "timestamp": {"type": "string", "format": "date-time"},
    "timestamptz": {"type": "string", "format": "date-time"},
    "time": {"type": "string", "format": "time"},
    "timetz": {"type": "string", "format": "time"},
    "uuid": {"type": "string", "format": "uuid"},
    "bytea": {"type": "string", "contentEncoding": "base64"},
    "json": {"type": list(ANY_JSON)},
    "jsonb": {"type": list(ANY_JSON)},
    "hstore": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
}
_COMPOSITE = {"type": "object", "additionalProperties": True}
_TEXT = {"type": "string"}

_BASE64 = "translate(encode({}, 'base64'), E'\\n', '')"  # encode() wraps lines at 76 chars
_EXPRESSIONS = {"bytea": _BASE64, "money": "{}::numeric"}
_ARRAY_EXPRESSIONS = {
    "bytea": "ARRAY(SELECT " + _BASE64.format("e") + " FROM unnest({}) AS e)",
    "money": "{}::numeric[]",
}


@dataclass(frozen=True)
class Column:
    """One column as the catalog describes it; domains are resolved to their base type."""

    name: str
    sql_type: str  # the declared type, as SQL (format_type): used to cast bookmarks
    base_type: str  # pg_type.typname of the base type
    kind: str  # pg_type.typtype of the base type: b(ase), c(omposite), e(num), r(ange), ...
    element: str | None  # for arrays: typname of the element's base type
    nullable: bool
    base_sql_type: str = ""  # the base type as SQL, modifier included: ``numeric(30,10)``

    @property
    def is_array(self) -> bool:
        return self.element is not None

    @property
    def can_be_replication_key(self) -> bool:
        return not self.is_array and self.base_type in REPLICATION_KEY_TYPES

    @property
    def bookmark_is_number(self) -> bool:
        """Integer keys bookmark as JSON numbers; other keys as strings, exact."""
        return not self.is_array and self.base_type in INTEGER_TYPES


def _scalar_schema(base_type: str, kind: str) -> dict[str, t.Any]:
    if kind == "c":
        return dict(_COMPOSITE)
    return dict(_SCHEMAS.get(base_type, _TEXT))


def _with_null(schema: dict[str, t.Any]) -> dict[str, t.Any]:
    types = schema["type"]
    if isinstance(types, str):
        schema["type"] = [types, "null"]
    return schema


def json_schema(column: Column) -> dict[str, t.Any]:
    """The JSON Schema of the column's values, with the SQL type as ``x-sql-datatype``."""
    if column.element is not None:
        items = _with_null(_scalar_schema(column.element, "b"))
        schema: dict[str, t.Any] = {"type": "array", "items": items}
    else:
        schema = _scalar_schema(column.base_type, column.kind)
    if column.base_sql_type:
        money = column.base_type == "money" or column.element == "money"
        schema["x-sql-datatype"] = column.base_sql_type.replace("money", "numeric", money)
    return _with_null(schema) if column.nullable else schema


def select_expression(column: Column, source: sql.Identifier) -> sql.Composable:
    """``<expression> AS "<column>"``: the value ready for ``row_to_json``."""
    reference = sql.SQL("{}.{}").format(source, sql.Identifier(column.name))
    template = (
        _ARRAY_EXPRESSIONS.get(column.element)
        if column.element is not None
        else _EXPRESSIONS.get(column.base_type)
    )
    value = sql.SQL(template).format(reference) if template else reference  # type: ignore[arg-type]
    return sql.SQL("{} AS {}").format(value, sql.Identifier(column.name))


def bookmark_expression(column: Column, source: sql.Identifier) -> sql.Composable:
    """The column's value as JSON text, for the state: numbers for integers, else strings."""
    reference = sql.SQL("{}.{}").format(source, sql.Identifier(column.name))
    if column.bookmark_is_number or column.base_type in TEMPORAL_KEY_TYPES:
        return sql.SQL("to_json({})::text").format(reference)  # dates: ISO 8601, as in records
    return sql.SQL("to_json({}::text)::text").format(reference)
