"""One stream's records in the current batch: where they are copied, and the keys seen.

Records are copied straight into the stream's table while nothing they hold can conflict with
a row already there: the stream has no key properties (they are appended), or the table was
empty when the batch reached it and no key has come twice yet. Otherwise, and from the first
repeated key on, they go to a staging table that is merged into the table at commit.
"""

from __future__ import annotations

import typing as t
from operator import itemgetter

from psycopg import sql

from target_postgres.statements import TIMESTAMP, staging_columns

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from target_postgres.rows import RowMaker
    from target_postgres.streams import StreamSpec
    from target_postgres.tables import Table


class Stage:
    """A stream's part of the batch; see the module docstring."""

    def __init__(self, spec: StreamSpec, table: Table, rows: RowMaker, *, empty: bool) -> None:
        """Copy straight into ``table`` if the stream appends or the table is ``empty``
        (unless it has timestamp columns without time zone, whose values need converting)."""
        self.spec = spec
        self.table = table
        self.rows = rows
        self.staging: str | None = None  # the staging table's name, once there is one
        self.direct = (empty or not spec.key_properties) and TIMESTAMP not in (
            table.columns[name] for name in spec.columns
        )
        keys = spec.key_properties
        self.keyed = bool(keys)
        self._key_of: Callable[[dict[str, t.Any]], t.Any] | None = (
            itemgetter(*keys) if keys else None
        )
        self._seen: set[t.Any] = set()
        self.duplicates = False  # a key came twice: the merge keeps the last staged row

    def is_repeat(self, record: dict[str, t.Any]) -> bool:
        """Note the record's key; whether it came before in this batch."""
        try:
            key = self._key_of(record)  # type: ignore[misc]
            if key in self._seen:
                self.duplicates = True
                return True
            self._seen.add(key)
        except TypeError:  # an unhashable key value: count it as a repeat, to be safe
            self.duplicates = True
            return True
        return False

    def copy_target(self) -> tuple[sql.Identifier, list[sql.Identifier], str]:
        """Relation and columns for COPY, and the relation's name as COPY errors show it."""
        if self.direct:
            return (
                self.table.identifier,
                list(map(sql.Identifier, self.spec.columns)),
                self.table.name,
            )
        assert self.staging is not None
        return sql.Identifier(self.staging), staging_columns(self.spec), self.staging

    def column_name(self, copied: str) -> str:
        """The stream's column behind a column name in a COPY error."""
        if self.direct or not copied.startswith("c") or not copied[1:].isdigit():
            return copied
        return list(self.spec.columns)[int(copied[1:])]
