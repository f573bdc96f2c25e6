"""SQLite state store: one file, WAL mode, each write its own transaction."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from dativo_ingest.exceptions import JobLockedError, StateFencedError, StateStoreError
from dativo_ingest.processes import current_process_identity
from dativo_ingest.state.locks import holder_is_alive
from dativo_ingest.state.sql import SqlStateStore
from dativo_ingest.state.store import (
    LockHolder,
    is_empty_state,
    utc_now,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS states (
    state_id   TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    run_id     TEXT
);
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    state_id    TEXT NOT NULL,
    job_file    TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    status      TEXT NOT NULL,
    ended_at    TEXT,
    duration_s  REAL,
    source_exit INTEGER,
    target_exit INTEGER,
    records     INTEGER NOT NULL DEFAULT 0,
    bytes       INTEGER NOT NULL DEFAULT 0,
    states_saved INTEGER NOT NULL DEFAULT 0,
    streams     TEXT NOT NULL DEFAULT '{}',
    orchestrator_peak_rss_bytes INTEGER,
    error       TEXT,
    resources   TEXT NOT NULL DEFAULT '{}',
    attempt     INTEGER NOT NULL DEFAULT 1,
    retry_reason TEXT,
    log_path    TEXT,
    worker      TEXT,
    contracts   TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS runs_by_start ON runs (started_at);
CREATE TABLE IF NOT EXISTS connector_configs (
    state_id   TEXT NOT NULL,
    side       TEXT NOT NULL,
    config     TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (state_id, side)
);
CREATE TABLE IF NOT EXISTS locks (
    state_id    TEXT PRIMARY KEY,
    run_id      TEXT NOT NULL,
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    pid_started REAL NOT NULL,
    acquired_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS fenced_writes (
    id            INTEGER PRIMARY KEY,
    state_id      TEXT NOT NULL,
    run_id        TEXT NOT NULL,
    token         INTEGER,
    holder_run_id TEXT,
    holder_token  INTEGER,
    refused_at    TEXT NOT NULL
);
"""
_ADDED_RUN_COLUMNS = {  # columns added after the first release, for older stores
    "resources": "TEXT NOT NULL DEFAULT '{}'",
    "attempt": "INTEGER NOT NULL DEFAULT 1",
    "retry_reason": "TEXT",
    "log_path": "TEXT",
    "worker": "TEXT",
    "contracts": "TEXT NOT NULL DEFAULT '{}'",
}
BUSY_SECONDS = 60.0  # how long a write waits for other dativo processes' transactions
_ABANDONED = "dativo stopped without finishing this run (killed or crashed)"


class SQLiteStateStore(SqlStateStore):
    """The default backend, at ``$DATIVO_HOME/dativo.db``. Safe to share between threads."""

    P = "?"
    driver_error = sqlite3.Error

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():  # it holds states and connector-updated configs: owner only
                path.touch(mode=0o600)
            self._db = sqlite3.connect(
                path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False
            )
            _when_not_busy(lambda: self._db.execute("PRAGMA journal_mode=WAL"))
            self._db.execute("PRAGMA synchronous=NORMAL")
            _when_not_busy(self._create_schema)
        except (OSError, sqlite3.Error) as exc:
            raise StateStoreError(f"cannot open the state store {path}: {exc}") from exc
        self._mutex = threading.Lock()

    def _create_schema(self) -> None:
        """Create the tables, or upgrade a store written by an earlier version (run columns
        it lacks), in one write transaction."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            have = {row[1] for row in self._db.execute("PRAGMA table_info(runs)")}
            for column, declaration in _ADDED_RUN_COLUMNS.items():
                if column not in have:
                    self._db.execute(f"ALTER TABLE runs ADD COLUMN {column} {declaration}")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._mutex:
            try:
                _when_not_busy(lambda: self._db.execute("BEGIN IMMEDIATE"))
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StateStoreError(f"state store {self.where}: {exc}") from exc

    # states

    def set_state(self, state_id: str, value: Any, run_id: str | None = None) -> bool:
        if is_empty_state(value):
            return False
        encoded = orjson.dumps(value).decode()
        refused: tuple[str | None] | None = None
        with self._transaction() as db:
            if run_id is not None:  # fencing: only the run holding the job's lock may write
                row = db.execute("SELECT run_id FROM locks WHERE state_id = ?", (state_id,))
                holder = row.fetchone() or (None,)
                if holder[0] != run_id:
                    db.execute(
                        "INSERT INTO fenced_writes (state_id, run_id, holder_run_id, refused_at)"
                        " VALUES (?, ?, ?, ?)",
                        (state_id, run_id, holder[0], utc_now()),
                    )
                    refused = holder
            if refused is None:
                db.execute(
                    "INSERT INTO states (state_id, value, updated_at, run_id) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (state_id) DO UPDATE SET value = excluded.value,"
                    " updated_at = excluded.updated_at, run_id = excluded.run_id",
                    (state_id, encoded, utc_now(), run_id),
                )
        if refused is not None:
            raise StateFencedError(state_id, run_id or "", refused[0])
        return True

    # locks

    def acquire_lock(self, state_id: str, run_id: str) -> LockHolder | None:
        host, pid, pid_started = current_process_identity()
        with self._transaction() as db:
            row = db.execute(
                "SELECT state_id, run_id, host, pid, pid_started, acquired_at FROM locks"
                " WHERE state_id = ?",
                (state_id,),
            ).fetchone()
            stale = LockHolder(*row) if row else None
            if stale is not None:
                if holder_is_alive(stale):
                    raise JobLockedError(
                        f"job {state_id} is already running (run {stale.run_id}, pid {stale.pid}"
                        f" on {stale.host}, since {stale.acquired_at}); wait for it to finish"
                        " or stop it"
                    )
                _abandon(db, stale.run_id)
            db.execute(
                "INSERT OR REPLACE INTO locks VALUES (?, ?, ?, ?, ?, ?)",
                (state_id, run_id, host, pid, pid_started, utc_now()),
            )
        return stale

    def release_lock(self, state_id: str, run_id: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM locks WHERE state_id = ? AND run_id = ?", (state_id, run_id))

    def mark_abandoned_runs(self) -> list[str]:
        with self._transaction() as db:
            rows = db.execute(
                "SELECT state_id, run_id, host, pid, pid_started, acquired_at FROM locks"
            ).fetchall()
            gone = [h for h in (LockHolder(*row) for row in rows) if not holder_is_alive(h)]
            for holder in gone:
                _abandon(db, holder.run_id)
                db.execute(
                    "DELETE FROM locks WHERE state_id = ? AND run_id = ?",
                    (holder.state_id, holder.run_id),
                )
        return [holder.run_id for holder in gone]

    # run history

    def close(self) -> None:
        with self._mutex:
            self._db.close()


def _abandon(db: sqlite3.Connection, run_id: str) -> None:
    db.execute(
        "UPDATE runs SET status = 'abandoned', error = ? WHERE run_id = ? AND status = 'running'",
        (_ABANDONED, run_id),
    )


def _when_not_busy(statement: Callable[[], object]) -> None:
    """Run ``statement``, retrying while another connection holds the database in a way
    SQLite's busy timeout does not wait for (a lock upgrade, WAL recovery), for at most
    ``BUSY_SECONDS``."""
    deadline = time.monotonic() + BUSY_SECONDS
    delay = 0.01
    while True:
        try:
            statement()
            return
        except sqlite3.OperationalError as exc:
            busy = "locked" in str(exc) or "busy" in str(exc)
            if not busy or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.5)
