"""SQL of the load: COPY, staging tables, the merge into a table, ACTIVATE_VERSION.

Rows are COPY'd with the stream's columns in table order (``StreamSpec.columns``). A staging
table has the stream's columns but the metadata shared by the batch's rows
(``StreamSpec.staged_columns``), under positional names (``c0``, ``c1``, ... after the column's
place in the table), typed as the destination's, and ``seq`` numbering rows in arrival order,
so the last record of a key wins. The merge writes the shared metadata itself
(``batch_metadata``): the server parses and stores four values fewer per row.
"""

from __future__ import annotations

import typing as t

from psycopg import sql

from target_postgres.streams import DELETED_AT_COLUMN, VERSION_COLUMN

if t.TYPE_CHECKING:
    from target_postgres.streams import StreamSpec
    from target_postgres.tables import Table

TIMESTAMP = "timestamp without time zone"  # other loaders' date-time columns
_NOW = sql.SQL("now()")  # the start of the batch's transaction, as ``now`` in a COPY row


def staging_columns(spec: StreamSpec) -> dict[str, sql.Identifier]:
    """A staging table's columns: the stream's column -> its name in the staging table."""
    position = {name: index for index, name in enumerate(spec.columns)}
    return {name: sql.Identifier(f"c{position[name]}") for name in spec.staged_columns}


def batch_metadata(sequence: int, sync_started_at: int) -> dict[str, sql.Composable]:
    """The values of ``BATCH_METADATA`` for a batch (see ``RowMaker``)."""
    return {
        "_sdc_received_at": _NOW,
        "_sdc_batched_at": _NOW,
        "_sdc_sequence": sql.Literal(sequence),
        "_sdc_sync_started_at": sql.Literal(sync_started_at),
    }


def create_staging(name: str, spec: StreamSpec, table: Table) -> sql.Composed:
    """A temporary table, dropped at commit, to COPY the stream's records into. Other
    loaders' timestamp columns are staged as timestamptz, so UTC offsets count (the session's
    time zone is UTC)."""
    definitions = [
        sql.SQL("{} {}").format(column, sql.SQL("timestamptz" if kind == TIMESTAMP else kind))
        for column, kind in (
            (column, table.columns[name]) for name, column in staging_columns(spec).items()
        )
    ]
    return sql.SQL(
        "CREATE TEMPORARY TABLE {} (seq bigint GENERATED ALWAYS AS IDENTITY, {}) ON COMMIT DROP"
    ).format(sql.Identifier(name), sql.SQL(", ").join(definitions))


def copy_rows(relation: sql.Identifier, columns: list[sql.Identifier]) -> sql.Composed:
    """COPY (text format) into a table or a staging table."""
    return sql.SQL("COPY {} ({}) FROM STDIN").format(relation, sql.SQL(", ").join(columns))


def merge(
    name: str,
    spec: StreamSpec,
    table: Table,
    batch: dict[str, sql.Composable],
    *,
    dedupe: bool,
    use_merge: bool,
) -> sql.Composed:
    """The staged rows into the stream's table, the columns of ``BATCH_METADATA`` taking their
    ``batch`` values: an upsert on the key properties (with ``dedupe``, only the last staged
    row of each key), a plain append without them. The upsert is a ``MERGE`` with
    ``use_merge`` (Postgres 15+: a join, each row updated once), else ``INSERT ... ON
    CONFLICT``, which also locks each row before updating it."""
    staged = staging_columns(spec)
    dedupe = dedupe and bool(spec.key_properties)
    values = [
        sql.SQL("s.{}").format(staged[column]) if column in staged else batch[column]
        for column in spec.columns
    ]
    if use_merge and spec.key_properties:
        return _merge(_source(name, spec, values, dedupe=dedupe, named=True), spec, table)
    insert = sql.SQL("INSERT INTO {} ({}) ").format(
        table.identifier, sql.SQL(", ").join(map(sql.Identifier, spec.columns))
    )
    source = _source(name, spec, values, dedupe=dedupe, named=False)
    if not spec.key_properties:
        return sql.Composed([insert, source])
    return sql.Composed([insert, source, _on_conflict(spec)])


def _source(
    name: str, spec: StreamSpec, values: list[sql.Composable], *, dedupe: bool, named: bool
) -> sql.Composed:
    """The SELECT of the staged rows' values (``named``: under the columns' names)."""
    staged = staging_columns(spec)
    keys = sql.SQL(", ").join(sql.SQL("s.{}").format(staged[key]) for key in spec.key_properties)
    if named:
        values = [
            sql.SQL("{} AS {}").format(value, sql.Identifier(column))
            for value, column in zip(values, spec.columns, strict=True)
        ]
    parts = [sql.SQL("SELECT ")]
    if dedupe:
        parts.append(sql.SQL("DISTINCT ON ({}) ").format(keys))
    parts.append(sql.SQL("{} FROM {} s").format(sql.SQL(", ").join(values), sql.Identifier(name)))
    if dedupe:
        parts.append(sql.SQL(" ORDER BY {}, s.seq DESC").format(keys))
    return sql.Composed(parts)


def _merge(source: sql.Composed, spec: StreamSpec, table: Table) -> sql.Composed:
    columns = list(map(sql.Identifier, spec.columns))
    on = sql.SQL(" AND ").join(
        sql.SQL("t.{0} = s.{0}").format(sql.Identifier(key)) for key in spec.key_properties
    )
    updates = [
        sql.SQL("{0} = s.{0}").format(sql.Identifier(column))
        for column in spec.columns
        if column not in spec.key_properties
    ]
    matched = (
        sql.SQL(" WHEN MATCHED THEN UPDATE SET {}").format(sql.SQL(", ").join(updates))
        if updates
        else sql.SQL(" WHEN MATCHED THEN DO NOTHING")
    )
    return sql.SQL(
        "MERGE INTO {table} t USING ({source}) s ON {on}{matched} "
        "WHEN NOT MATCHED THEN INSERT ({columns}) VALUES ({values})"
    ).format(
        table=table.identifier,
        source=source,
        on=on,
        matched=matched,
        columns=sql.SQL(", ").join(columns),
        values=sql.SQL(", ").join(sql.SQL("s.{}").format(column) for column in columns),
    )


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
