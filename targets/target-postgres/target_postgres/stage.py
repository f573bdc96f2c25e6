"""One stream's records in the current batch: where they are copied, and the keys seen.

Records are copied straight into the stream's table while nothing they hold can conflict with
a row already there: the stream has no key properties (they are appended); or the table was
empty when the batch reached it and no key has come twice yet; or the table holds only rows
this run loaded, under integer keys in a known range (``KeySpan``), and every key so far lies
outside it, once. Otherwise, and from the first key that may conflict on, they go to a
staging table that is merged into the table at commit.
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

KeySpan = tuple[int, int]  # the lowest and highest integer key of some rows


class Stage:
    """A stream's part of the batch; see the module docstring."""

    def __init__(
        self,
        spec: StreamSpec,
        table: Table,
        rows: RowMaker,
        *,
        empty: bool,
        loaded: KeySpan | None = None,
    ) -> None:
        """Copy straight into ``table`` if the stream appends, the table is ``empty``, or
        it holds only the rows this run loaded, whose keys span ``loaded`` (unless it has
        timestamp columns without time zone, whose values need converting)."""
        self.spec = spec
        self.table = table
        self.rows = rows
        self.staging: str | None = None  # the staging table's name, once there is one
        self.direct = (
            empty or loaded is not None or not spec.key_properties
        ) and TIMESTAMP not in (table.columns[name] for name in spec.columns)
        keys = spec.key_properties
        self.keyed = bool(keys)
        self.tracked = self.keyed and (empty or loaded is not None)  # keys: all in the table
        self._loaded = loaded
        columns = list(spec.columns)
        self._key_of: Callable[[t.Sequence[t.Any]], t.Any] | None = (
            itemgetter(*(columns.index(key) for key in keys)) if keys else None
        )
        self._seen: set[t.Any] = set()
        self.duplicates = False  # a key came twice: the merge keeps the last staged row

    def may_conflict(self, row: t.Sequence[t.Any]) -> bool:
        """Note the key of a COPY row; whether it came before in this batch or may be the key
        of a row in the table."""
        try:
            key = self._key_of(row)  # type: ignore[misc]
            if key in self._seen:
                self.duplicates = True
                return True
            self._seen.add(key)
        except TypeError:  # an unhashable key value: count it as a repeat, to be safe
            self.duplicates = True
            return True
        loaded = self._loaded
        return loaded is not None and not (
            type(key) is int and (key < loaded[0] or key > loaded[1])
        )

    def note_all(self, rows: list[list[t.Any]]) -> bool:
        """Note the keys of COPY rows at once, unless the stage copies straight into the table
        and one of them may conflict (then: False, nothing noted; see ``may_conflict``)."""
        keys = list(map(self._key_of, rows))  # type: ignore[arg-type]
        try:
            repeated = len(set(keys)) != len(keys) or not self._seen.isdisjoint(keys)
            if self.direct and (repeated or not self._outside_loaded(keys)):
                return False
        except TypeError:  # an unhashable key
            return False
        self.duplicates = self.duplicates or repeated
        self._seen.update(keys)
        return True

    def _outside_loaded(self, keys: list[t.Any]) -> bool:
        """Whether the keys are all integers, all below or all above the loaded span."""
        loaded = self._loaded
        if loaded is None or not keys:
            return True
        return set(map(type, keys)) == {int} and (max(keys) < loaded[0] or min(keys) > loaded[1])

    def span(self) -> KeySpan | None:
        """The span of every key in the table once the batch is committed, if the stage
        knows them all (``tracked``) and they are integers."""
        seen = self._seen
        if not self.tracked or not seen or not all(type(key) is int for key in seen):
            return None
        low, high = min(seen), max(seen)
        if self._loaded is not None:
            low, high = min(low, self._loaded[0]), max(high, self._loaded[1])
        return low, high

    def copy_target(self) -> tuple[sql.Identifier, list[sql.Identifier], str]:
        """Relation and columns for COPY, and the relation's name as COPY errors show it."""
        if self.direct:
            return (
                self.table.identifier,
                list(map(sql.Identifier, self.spec.columns)),
                self.table.name,
            )
        assert self.staging is not None
        return sql.Identifier(self.staging), list(staging_columns(self.spec).values()), self.staging

    def column_name(self, copied: str) -> str:
        """The stream's column behind a column name in a COPY error."""
        if self.direct or not copied.startswith("c") or not copied[1:].isdigit():
            return copied
        return list(self.spec.columns)[int(copied[1:])]
