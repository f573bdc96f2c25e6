"""SQL of the load: COPY, staging tables, the merge into a table, ACTIVATE_VERSION.

Rows are COPY'd with the stream's columns in table order (``StreamSpec.columns``). A staging
table has the same columns under positional names (``c0``, ``c1``, ...), typed as the
destination's, and ``seq`` numbering rows in arrival order, so the last record of a key wins.
"""

from __future__ import annotations

import typing as t

from psycopg import sql

from target_postgres.streams import DELETED_AT_COLUMN, VERSION_COLUMN

if t.TYPE_CHECKING:
    from target_postgres.streams import StreamSpec
    from target_postgres.tables import Table

TIMESTAMP = "timestamp without time zone"  # other loaders' date-time columns


def staging_columns(spec: StreamSpec) -> list[sql.Identifier]:
    """A staging table's columns, in the order of ``spec.columns``."""
    return [sql.Identifier(f"c{index}") for index in range(len(spec.columns))]


def create_staging(name: str, spec: StreamSpec, table: Table) -> sql.Composed:
    """A temporary table, dropped at commit, to COPY the stream's records into. Other
    loaders' timestamp columns are staged as timestamptz, so UTC offsets count (the session's
    time zone is UTC)."""
    definitions = [
        sql.SQL("{} {}").format(column, sql.SQL("timestamptz" if kind == TIMESTAMP else kind))
        for column, kind in zip(
            staging_columns(spec), (table.columns[name] for name in spec.columns), strict=True
        )
    ]
    return sql.SQL(
        "CREATE TEMPORARY TABLE {} (seq bigint GENERATED ALWAYS AS IDENTITY, {}) ON COMMIT DROP"
    ).format(sql.Identifier(name), sql.SQL(", ").join(definitions))


def copy_rows(relation: sql.Identifier, columns: list[sql.Identifier]) -> sql.Composed:
    """COPY (text format) into a table or a staging table."""
    return sql.SQL("COPY {} ({}) FROM STDIN").format(relation, sql.SQL(", ").join(columns))


def merge(name: str, spec: StreamSpec, table: Table, *, dedupe: bool) -> sql.Composed:
    """INSERT the staged rows into the stream's table: an upsert on the key properties (with
    ``dedupe``, only the last staged row of each key), a plain append without them."""
    staged = staging_columns(spec)
    position = dict(zip(spec.columns, staged, strict=True))
    keys = sql.SQL(", ").join(sql.SQL("s.{}").format(position[key]) for key in spec.key_properties)
    dedupe = dedupe and bool(spec.key_properties)
    parts = [
        sql.SQL("INSERT INTO {} ({}) SELECT ").format(
            table.identifier, sql.SQL(", ").join(map(sql.Identifier, spec.columns))
        )
    ]
    if dedupe:
        parts.append(sql.SQL("DISTINCT ON ({}) ").format(keys))
    parts.append(
        sql.SQL("{} FROM {} s").format(
            sql.SQL(", ").join(sql.SQL("s.{}").format(column) for column in staged),
            sql.Identifier(name),
        )
    )
    if dedupe:
        parts.append(sql.SQL(" ORDER BY {}, s.seq DESC").format(keys))
    if spec.key_properties:
        parts.append(_on_conflict(spec))
    return sql.Composed(parts)


def _on_conflict(spec: StreamSpec) -> sql.Composable:
    keys = sql.SQL(", ").join(map(sql.Identifier, spec.key_properties))
    updates = [
        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(column))
        for column in spec.columns
        if column not in spec.key_properties
    ]
    if not updates:
        return sql.SQL(" ON CONFLICT ({}) DO NOTHING").format(keys)
    return sql.SQL(" ON CONFLICT ({}) DO UPDATE SET {}").format(keys, sql.SQL(", ").join(updates))


def is_empty(table: Table) -> sql.Composed:
    """Whether the table has no row (then no record can conflict with an existing one)."""
    return sql.SQL("SELECT NOT EXISTS (SELECT FROM {})").format(table.identifier)


def drop_table(table: Table) -> sql.Composed:
    """load_method overwrite: the table goes, to be created afresh in the same transaction."""
    return sql.SQL("DROP TABLE {}").format(table.identifier)


def retire_old_versions(table: Table, version: int, *, hard_delete: bool) -> sql.Composed:
    """ACTIVATE_VERSION: delete, or mark deleted, the rows of versions before ``version``."""
    old = sql.SQL("({0} IS NULL OR {0} < {1})").format(
        sql.Identifier(VERSION_COLUMN), sql.Literal(version)
    )
    if hard_delete:
        return sql.SQL("DELETE FROM {} WHERE {}").format(table.identifier, old)
    return sql.SQL("UPDATE {table} SET {deleted} = now() WHERE {old} AND {deleted} IS NULL").format(
        table=table.identifier, deleted=sql.Identifier(DELETED_AT_COLUMN), old=old
    )
