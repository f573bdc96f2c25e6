"""Destination tables: read from the catalog, created, given new columns, widened.

Every statement here runs inside the batch's transaction, so a table change is committed
with the rows that needed it, or not at all.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

import psycopg
from psycopg import sql

from target_postgres.errors import LoadError
from target_postgres.sqltypes import BIGINT, DOUBLE, LARGEST_EXACT_DOUBLE, widening

if t.TYPE_CHECKING:
    from target_postgres.streams import StreamSpec

_COLUMNS = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""
_PRIMARY_KEY = """
SELECT a.attname FROM pg_index i
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
WHERE i.indrelid = to_regclass(%s) AND i.indisprimary
ORDER BY array_position(i.indkey, a.attnum)
"""


@dataclass(frozen=True)
class Table:
    """A destination table as it is in the database."""

    schema_name: str
    name: str
    columns: dict[str, str]  # column name -> type, as format_type spells it
    primary_key: tuple[str, ...]

    @property
    def identifier(self) -> sql.Identifier:
        return sql.Identifier(self.schema_name, self.name)


def read_table(cursor: psycopg.Cursor[t.Any], schema_name: str, name: str) -> Table | None:
    """The table as the catalog describes it, or None if it does not exist."""
    regclass = sql.Identifier(schema_name, name).as_string(cursor)
    rows = cursor.execute(_COLUMNS, (regclass,)).fetchall()
    if not rows:
        return None
    keys = cursor.execute(_PRIMARY_KEY, (regclass,)).fetchall()
    return Table(
        schema_name=schema_name,
        name=name,
        columns=dict(rows),
        primary_key=tuple(key for (key,) in keys),
    )


def prepare_table(cursor: psycopg.Cursor[t.Any], spec: StreamSpec, table: Table | None) -> Table:
    """Make the table take the stream's records: create it, add columns, widen types."""
    try:
        if table is None:
            return _create(cursor, spec)
        _check_primary_key(spec, table)
        return _alter(cursor, spec, table)
    except psycopg.errors.FeatureNotSupported as exc:
        raise LoadError(f"{spec.label}: cannot change the table: {exc}") from None


def _create(cursor: psycopg.Cursor[t.Any], spec: StreamSpec) -> Table:
    identifier = sql.Identifier(spec.schema_name, spec.table)
    definitions = [
        sql.SQL("{} {}{}").format(
            sql.Identifier(name),
            sql.SQL(kind),
            sql.SQL(" NOT NULL" if name in spec.not_null else ""),
        )
        for name, kind in spec.columns.items()
    ]
    if spec.key_properties:
        keys = sql.SQL(", ").join(map(sql.Identifier, spec.key_properties))
        definitions.append(sql.SQL("PRIMARY KEY ({})").format(keys))
    cursor.execute(
        sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(spec.schema_name))
    )
    cursor.execute(
        sql.SQL("CREATE TABLE {} ({})").format(identifier, sql.SQL(", ").join(definitions))
    )
    return Table(spec.schema_name, spec.table, dict(spec.columns), spec.key_properties)


def _check_primary_key(spec: StreamSpec, table: Table) -> None:
    if spec.key_properties and table.primary_key != spec.key_properties:
        raise LoadError(
            f"{spec.label}: the stream's key properties {list(spec.key_properties)} differ "
            f"from the table's primary key {list(table.primary_key)}; an upsert needs them "
            "equal (change the table's primary key, or load into another schema)"
        )


def _alter(cursor: psycopg.Cursor[t.Any], spec: StreamSpec, table: Table) -> Table:
    actions: list[sql.Composable] = []
    columns = dict(table.columns)
    for name, desired in spec.columns.items():
        column = sql.Identifier(name)
        existing = columns.get(name)
        if existing is None:
            actions.append(sql.SQL("ADD COLUMN {} {}").format(column, sql.SQL(desired)))
            columns[name] = desired
        elif change := widening(existing, desired):
            if (existing, change.new_type) == (BIGINT, DOUBLE):
                _check_exact_as_double(cursor, spec, table, name)
            using = sql.SQL(change.using).format(column=column)
            actions.append(
                sql.SQL("ALTER COLUMN {} TYPE {} USING {}").format(
                    column, sql.SQL(change.new_type), using
                )
            )
            columns[name] = change.new_type
    if actions:
        cursor.execute(
            sql.SQL("ALTER TABLE {} {}").format(table.identifier, sql.SQL(", ").join(actions))
        )
    return Table(table.schema_name, table.name, columns, table.primary_key)


def _check_exact_as_double(
    cursor: psycopg.Cursor[t.Any], spec: StreamSpec, table: Table, column: str
) -> None:
    """Refuse to turn a bigint column into double precision when that would round values."""
    query = sql.SQL("SELECT {column} FROM {table} WHERE abs({column}) > %s LIMIT 1").format(
        column=sql.Identifier(column), table=table.identifier
    )
    row = cursor.execute(query, (LARGEST_EXACT_DOUBLE,)).fetchone()
    if row is not None:
        raise LoadError(
            f"{spec.label}: column {column!r} cannot widen from bigint to double precision: "
            f"it holds {row[0]}, which double precision cannot represent exactly (only "
            f"integers up to 2**53); declare the property as an integer, or as a number with "
            f'"multipleOf" (loaded as numeric)'
        )
