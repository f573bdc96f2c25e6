"""Discovery: the readable tables and views of the database, from pg_catalog in one query."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from itertools import groupby

from tap_postgres.typemap import Column

if t.TYPE_CHECKING:
    from collections.abc import Sequence

    import psycopg

# Tables (r), partitioned tables (p), views (v), materialized views (m), foreign tables (f).
# Partitions are read through their parent, so they are left out. Domains resolve to their base
# type (through any depth of domains over domains), array elements too; the base type is also
# spelled as SQL with the column's (or the domain's) modifier, as ``x-sql-datatype``.
DISCOVERY_SQL = r"""
WITH RECURSIVE base(type_oid, base_oid) AS (
    SELECT oid, oid FROM pg_type WHERE typtype <> 'd'
    UNION ALL
    SELECT d.oid, base.base_oid
    FROM pg_type AS d JOIN base ON d.typbasetype = base.type_oid
    WHERE d.typtype = 'd'
)
SELECT n.nspname, c.relname, c.relkind IN ('v', 'm'),
       a.attname, format_type(a.atttypid, a.atttypmod), bt.typname, bt.typtype, et.typname,
       NOT a.attnotnull, array_position(pk.indkey::int2[], a.attnum),
       format_type(bt.oid, CASE WHEN a.atttypmod <> -1 THEN a.atttypmod ELSE dt.typtypmod END)
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type AS dt ON dt.oid = a.atttypid
JOIN base AS b ON b.type_oid = a.atttypid
JOIN pg_type AS bt ON bt.oid = b.base_oid
LEFT JOIN base AS eb ON bt.typcategory = 'A' AND eb.type_oid = bt.typelem
LEFT JOIN pg_type AS et ON et.oid = eb.base_oid
LEFT JOIN pg_index AS pk ON pk.indrelid = c.oid AND pk.indisprimary
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
  AND has_table_privilege(c.oid, 'SELECT')
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY(%(schemas)s::text[]))
ORDER BY n.nspname, c.relname, a.attnum
"""


@dataclass(frozen=True)
class Table:
    """A table or view: its columns in order and its primary key (in key order)."""

    schema: str
    name: str
    is_view: bool
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]

    @property
    def stream_id(self) -> str:
        """``<schema>-<table>``, as meltanolabs-tap-postgres names streams."""
        return f"{self.schema}-{self.name}"

    def column(self, name: str) -> Column | None:
        return next((column for column in self.columns if column.name == name), None)

    @property
    def replication_key_candidates(self) -> list[str]:
        return [column.name for column in self.columns if column.can_be_replication_key]


def discover(conn: psycopg.Connection[t.Any], schemas: Sequence[str] | None) -> list[Table]:
    """Every table and view the session may read, in ``schemas`` if given."""
    rows = conn.execute(DISCOVERY_SQL, {"schemas": list(schemas) if schemas else None}).fetchall()
    tables = []
    for (schema, name, is_view), group in groupby(rows, key=lambda row: row[:3]):
        members = list(group)
        columns = tuple(
            Column(
                name=row[3],
                sql_type=row[4],
                base_type=row[5],
                kind=row[6],
                element=row[7],
                nullable=row[8],
                base_sql_type=row[10],
            )
            for row in members
        )
        keyed = sorted((row[9], row[3]) for row in members if row[9] is not None)
        primary_key = tuple(column for _, column in keyed)
        tables.append(Table(schema, name, is_view, columns, primary_key))
    return tables
