"""The SELECT of one stream's sync, in which Postgres renders every record as JSON text.

``SELECT row_to_json(r)::text [, <bookmark>] FROM <table> AS s CROSS JOIN LATERAL
(SELECT <selected columns> ) AS r [WHERE s.<key> >= <bookmark>] [ORDER BY s.<key>] [LIMIT n]``

The planner flattens the lateral subquery into ``row_to_json(ROW(...))``: it costs nothing
over a plain select, and it lets the replication key drive the filter, the order and the
bookmark whether or not the key is one of the selected fields.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from psycopg import sql

from tap_postgres.typemap import bookmark_expression, select_expression

if t.TYPE_CHECKING:
    from tap_postgres.catalog import Table
    from tap_postgres.typemap import Column

SOURCE = sql.Identifier("s")


@dataclass(frozen=True)
class Extraction:
    """What one sync reads: the fields, and for incremental syncs the key and where to start."""

    table: Table
    columns: tuple[Column, ...]
    replication_key: Column | None = None
    start: t.Any = None  # rows whose key is >= start; None: from the beginning
    limit: int | None = None

    def query(self) -> tuple[sql.Composed, dict[str, t.Any]]:
        """The statement and its parameters; column 0 is the record, column 1 the bookmark."""
        fields = sql.SQL(", ").join(select_expression(column, SOURCE) for column in self.columns)
        selected = [sql.SQL("row_to_json(r)::text")]
        params: dict[str, t.Any] = {}
        clauses = []
        key = self.replication_key
        if key is not None:
            selected.append(bookmark_expression(key, SOURCE))
            key_ref = sql.SQL("{}.{}").format(SOURCE, sql.Identifier(key.name))
            order = "ORDER BY {}"
            if self.start is not None:
                params["start"] = self.start
                cast = sql.SQL(key.sql_type)  # type: ignore[arg-type]  # format_type() output
                clauses.append(sql.SQL("WHERE {} >= %(start)s::{}").format(key_ref, cast))
            elif key.nullable:
                order += " NULLS FIRST"  # so the last row of a batch carries the batch's bookmark
            clauses.append(sql.SQL(order).format(key_ref))  # type: ignore[arg-type]
        if self.limit is not None:
            clauses.append(sql.SQL("LIMIT {}").format(sql.Literal(self.limit)))
        statement = sql.SQL(
            "SELECT {selected} FROM {table} AS {source} CROSS JOIN LATERAL (SELECT {fields}) AS r"
        ).format(
            selected=sql.SQL(", ").join(selected),
            table=sql.Identifier(self.table.schema, self.table.name),
            source=SOURCE,
            fields=fields,
        )
        return sql.SQL(" ").join([statement, *clauses]), params
