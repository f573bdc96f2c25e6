"""What the SQL state stores (SQLite, Postgres) share: the reads, the connector configs and the
run history, written once with the backend's parameter placeholder."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import fields
from typing import Any, ClassVar

import orjson

from dativo_ingest.exceptions import StateStoreError
from dativo_ingest.state.store import RunRecord, StoredState, utc_now

RUN_COLUMNS = [f.name for f in fields(RunRecord)]
_RUN_NAMES = ", ".join(f'"{c}"' for c in RUN_COLUMNS)  # quoted: valid in SQLite and Postgres
JSON_COLUMNS = ("streams", "resources", "contracts")  # run columns stored as JSON text
_FENCED = ("state_id", "run_id", "token", "holder_run_id", "holder_token", "refused_at")


class SqlStateStore:
    """The shared half of a SQL backend; a subclass opens ``_db`` (its driver's connection,
    used under ``_mutex``), names the store in ``where``, and gives ``_transaction``, ``P``,
    its parameter placeholder (``?`` or ``%s``), and ``driver_error``, its driver's error."""

    P: ClassVar[str]
    driver_error: ClassVar[type[Exception]]
    where: str
    _db: Any
    _mutex: threading.Lock

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._mutex:
            try:
                return self._db.execute(sql, params).fetchall()  # type: ignore[no-any-return]
            except self.driver_error as exc:
                raise StateStoreError(f"state store {self.where}: {exc}") from exc

    def _transaction(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    # states

    def get_state(self, state_id: str) -> StoredState | None:
        rows = self._query(
            f"SELECT value, updated_at, run_id FROM states WHERE state_id = {self.P}", (state_id,)
        )
        if not rows:
            return None
        value, updated_at, run_id = rows[0]
        return StoredState(state_id, orjson.loads(value), updated_at, run_id)

    def clear_state(self, state_id: str) -> bool:
        with self._transaction() as db:
            deleted = db.execute(f"DELETE FROM states WHERE state_id = {self.P}", (state_id,))
            return bool(deleted.rowcount > 0)

    def list_states(self) -> list[StoredState]:
        rows = self._query("SELECT state_id, value, updated_at, run_id FROM states ORDER BY 1")
        return [StoredState(s, orjson.loads(v), u, r) for s, v, u, r in rows]

    def fenced_writes(self, state_id: str | None = None) -> list[dict[str, Any]]:
        """State writes refused because their run no longer held the job's lock."""
        where, params = (f"WHERE state_id = {self.P}", (state_id,)) if state_id else ("", ())
        rows = self._query(
            f"SELECT {', '.join(_FENCED)} FROM fenced_writes {where} ORDER BY id", params
        )
        return [dict(zip(_FENCED, row, strict=True)) for row in rows]

    # configs updated by connectors (Airbyte CONTROL messages)

    def get_connector_config(self, state_id: str, side: str) -> dict[str, Any] | None:
        rows = self._query(
            f"SELECT config FROM connector_configs WHERE state_id = {self.P} AND side = {self.P}",
            (state_id, side),
        )
        return orjson.loads(rows[0][0]) if rows else None

    def set_connector_config(self, state_id: str, side: str, config: dict[str, Any]) -> None:
        with self._transaction() as db:
            db.execute(
                f"INSERT INTO connector_configs VALUES ({self.P}, {self.P}, {self.P}, {self.P})"
                " ON CONFLICT (state_id, side) DO UPDATE SET config = excluded.config,"
                " updated_at = excluded.updated_at",
                (state_id, side, orjson.dumps(config).decode(), utc_now()),
            )

    # run history

    def record_run(self, run: RunRecord) -> None:
        values = run.to_dict()
        for column in JSON_COLUMNS:
            values[column] = orjson.dumps(values[column]).decode()
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in RUN_COLUMNS if c != "run_id")
        with self._transaction() as db:
            db.execute(
                f"INSERT INTO runs ({_RUN_NAMES}) VALUES ({', '.join(self.P for _ in RUN_COLUMNS)})"
                f" ON CONFLICT (run_id) DO UPDATE SET {updates}",
                [values[c] for c in RUN_COLUMNS],
            )

    def list_runs(self, limit: int = 20, state_id: str | None = None) -> list[RunRecord]:
        where, params = (f"WHERE state_id = {self.P}", (state_id,)) if state_id else ("", ())
        rows = self._query(
            f"SELECT {_RUN_NAMES} FROM runs {where}"
            f" ORDER BY started_at DESC, run_id DESC LIMIT {self.P}",
            (*params, limit),
        )
        return list(_runs(rows))


def _runs(rows: list[tuple[Any, ...]]) -> Iterator[RunRecord]:
    for row in rows:
        values = dict(zip(RUN_COLUMNS, row, strict=True))
        for column in JSON_COLUMNS:
            values[column] = orjson.loads(values[column])
        yield RunRecord(**values)
