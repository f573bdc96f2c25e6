"""Postgres state store: one database shared by every worker, locks that fence stale runs.

A run's lock is two things. A session advisory lock, held on a connection of its own for the
whole run, which Postgres frees when the holder's connection dies. And a row in ``locks``
carrying a fencing token (a sequence number) and a lease the holder renews; every state write
of a run checks, in the same transaction, that the row still carries the run's token. A run
that was paused past its lease (SIGSTOP, a partition) can be taken over: the new run ends the
old one's lock connection, takes a new token, and any later write of the old run is refused
and recorded in ``fenced_writes``.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from typing import Any

import orjson
import psycopg
from psycopg.conninfo import conninfo_to_dict

from dativo_ingest.exceptions import JobLockedError, StateFencedError, StateStoreError
from dativo_ingest.logs import get_logger
from dativo_ingest.processes import current_process_identity
from dativo_ingest.state.sql import SqlStateStore
from dativo_ingest.state.store import LockHolder, RunRecord, is_empty_state, utc_now

log = get_logger(__name__)
DEFAULT_LEASE_SECONDS = 30.0
_TAKEOVER_WAIT_SECONDS = 10.0
_CONNECT_TIMEOUT_SECONDS = 10
_MIGRATION_LOCK = 0x64617469766F  # "dativo": serialises schema creation between processes

# Each step runs once, in order; the applied count is kept in dativo_schema.
_MIGRATIONS = (
    """
    CREATE TABLE states (
        state_id   TEXT PRIMARY KEY,
        value      TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        run_id     TEXT
    );
    CREATE TABLE runs (
        run_id      TEXT PRIMARY KEY,
        state_id    TEXT NOT NULL,
        job_file    TEXT NOT NULL,
        started_at  TEXT NOT NULL,
        status      TEXT NOT NULL,
        ended_at    TEXT,
        duration_s  DOUBLE PRECISION,
        source_exit INTEGER,
        target_exit INTEGER,
        records     BIGINT NOT NULL DEFAULT 0,
        bytes       BIGINT NOT NULL DEFAULT 0,
        states_saved INTEGER NOT NULL DEFAULT 0,
        streams     TEXT NOT NULL DEFAULT '{}',
        orchestrator_peak_rss_bytes BIGINT,
        error       TEXT,
        resources   TEXT NOT NULL DEFAULT '{}',
        attempt     INTEGER NOT NULL DEFAULT 1,
        retry_reason TEXT,
        worker      TEXT
    );
    CREATE INDEX runs_by_start ON runs (started_at);
    CREATE TABLE connector_configs (
        state_id   TEXT NOT NULL,
        side       TEXT NOT NULL,
        config     TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (state_id, side)
    );
    CREATE SEQUENCE fencing_tokens;
    CREATE TABLE locks (
        state_id    TEXT PRIMARY KEY,
        run_id      TEXT NOT NULL,
        token       BIGINT NOT NULL,
        host        TEXT NOT NULL,
        pid         INTEGER NOT NULL,
        pid_started DOUBLE PRECISION NOT NULL,
        acquired_at TEXT NOT NULL,
        backend_pid INTEGER NOT NULL,
        lease_s     DOUBLE PRECISION NOT NULL,
        renewed_at  TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE fenced_writes (
        id            BIGSERIAL PRIMARY KEY,
        state_id      TEXT NOT NULL,
        run_id        TEXT NOT NULL,
        token         BIGINT,
        holder_run_id TEXT,
        holder_token  BIGINT,
        refused_at    TEXT NOT NULL
    );
    """,
    # per-stream contract figures (JSON); older runs have none
    "ALTER TABLE runs ADD COLUMN IF NOT EXISTS contracts TEXT NOT NULL DEFAULT '{}'",
)
_COLUMN_TYPES = {"int": "BIGINT", "float": "DOUBLE PRECISION", "str": "TEXT"}


def lock_key(state_id: str) -> int:
    """The job's advisory lock key: 64 bits of SHA-256, the same on every machine."""
    return int.from_bytes(hashlib.sha256(state_id.encode()).digest()[:8], "big", signed=True)


def describe_url(url: str) -> str:
    """``user@host:port/dbname`` of a connection string, without its password."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "an invalid Postgres connection string"
    host = params.get("host", "localhost")
    return f"{params.get('user', '')}@{host}:{params.get('port', 5432)}/{params.get('dbname', '')}"


class _HeldLock:
    """A lock this process holds: its own connection, its token, a lease renewer."""

    def __init__(self, conn: psycopg.Connection[Any], state_id: str, run_id: str) -> None:
        self.conn, self.state_id, self.run_id = conn, state_id, run_id
        self.token = 0
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None

    def renew_every(self, seconds: float) -> None:
        self.thread = threading.Thread(target=self._renew, args=(seconds,), daemon=True)
        self.thread.start()

    def _renew(self, seconds: float) -> None:
        while not self.stopped.wait(seconds):
            try:
                renewed = self.conn.execute(
                    "UPDATE locks SET renewed_at = now() WHERE state_id = %s AND token = %s",
                    (self.state_id, self.token),
                ).rowcount
            except psycopg.Error as exc:
                log.warning("lost the lock connection of %s: %s", self.state_id, exc)
                return
            if not renewed:
                log.warning("the lock of %s was taken over by another run", self.state_id)
                return

    def close(self) -> None:
        self.stopped.set()
        if self.thread is not None:
            self.thread.join(5)
        try:
            self.conn.execute("SELECT pg_advisory_unlock_all()")
        except psycopg.Error:
            pass  # the connection is gone, and the advisory lock with it
        finally:
            self.conn.close()


class PostgresStateStore(SqlStateStore):
    """The shared backend, selected by ``DATIVO_STATE_URL=postgresql://...``."""

    P = "%s"
    driver_error = psycopg.Error

    def __init__(self, url: str, lease_seconds: float | None = None) -> None:
        self.url = url
        self.where = describe_url(url)
        self.lease_seconds = lease_seconds or float(
            os.environ.get("DATIVO_LOCK_LEASE_SECONDS") or DEFAULT_LEASE_SECONDS
        )
        self._mutex = threading.Lock()
        self._held: dict[tuple[str, str], _HeldLock] = {}
        self._db = self._connect()
        try:
            self._migrate()
        except psycopg.Error as exc:
            self._db.close()
            raise StateStoreError(f"cannot create the state store in {self.where}: {exc}") from exc

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(
                self.url, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_SECONDS
            )
        except psycopg.Error as exc:
            raise StateStoreError(
                f"cannot open the state store {self.where}: {exc}".strip()
            ) from None

    def _migrate(self) -> None:
        """Create the schema, or bring an older one up to date; safe from many processes."""
        with self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            self._db.execute("CREATE TABLE IF NOT EXISTS dativo_schema (version INTEGER NOT NULL)")
            row = self._db.execute("SELECT version FROM dativo_schema").fetchone()
            applied = row[0] if row else 0
            for step in _MIGRATIONS[applied:]:
                self._db.execute(step)
            if row is None:
                self._db.execute("INSERT INTO dativo_schema VALUES (%s)", (len(_MIGRATIONS),))
            else:
                self._db.execute("UPDATE dativo_schema SET version = %s", (len(_MIGRATIONS),))
            self._add_run_columns()

    def _add_run_columns(self) -> None:
        """Run-record fields added since the schema was made become columns."""
        have = {
            r[0]
            for r in self._db.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = 'runs'"
            )
        }
        for field in fields(RunRecord):
            if field.name in have:
                continue
            kind = str(field.type).split("[")[0].split(" ")[0]
            column = _COLUMN_TYPES.get(kind, "TEXT")
            self._db.execute(f'ALTER TABLE runs ADD COLUMN "{field.name}" {column}')

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection[Any]]:
        with self._mutex:
            try:
                with self._db.transaction():
                    yield self._db
            except psycopg.Error as exc:
                raise StateStoreError(f"state store {self.where}: {exc}") from exc

    # states

    def set_state(self, state_id: str, value: Any, run_id: str | None = None) -> bool:
        if is_empty_state(value):
            return False
        encoded = orjson.dumps(value).decode()
        held = self._held.get((state_id, run_id or ""))
        refused: tuple[str | None, int | None] | None = None
        with self._transaction() as db:
            if run_id is not None:
                row = db.execute(
                    "SELECT run_id, token FROM locks WHERE state_id = %s FOR SHARE", (state_id,)
                ).fetchone()
                holder = (row[0], row[1]) if row else (None, None)
                if holder != (run_id, held.token if held else holder[1]):
                    db.execute(
                        "INSERT INTO fenced_writes (state_id, run_id, token, holder_run_id,"
                        " holder_token, refused_at) VALUES (%s, %s, %s, %s, %s, %s)",
                        (state_id, run_id, held.token if held else None, *holder, utc_now()),
                    )
                    refused = holder
            if refused is None:
                db.execute(
                    "INSERT INTO states (state_id, value, updated_at, run_id)"
                    " VALUES (%s, %s, %s, %s) ON CONFLICT (state_id) DO UPDATE SET"
                    " value = excluded.value, updated_at = excluded.updated_at,"
                    " run_id = excluded.run_id",
                    (state_id, encoded, utc_now(), run_id),
                )
        if refused is not None:
            raise StateFencedError(state_id, run_id or "", refused[0])
        return True

    # locks

    def acquire_lock(self, state_id: str, run_id: str) -> LockHolder | None:
        conn = self._connect()
        held = _HeldLock(conn, state_id, run_id)
        try:
            self._take_advisory_lock(conn, state_id)
            stale = self._claim(held)
        except BaseException:
            held.close()
            raise
        self._held[(state_id, run_id)] = held
        held.renew_every(self.lease_seconds / 3)
        return stale

    def _take_advisory_lock(self, conn: psycopg.Connection[Any], state_id: str) -> None:
        key = lock_key(state_id)
        if conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:  # type: ignore[index]
            return
        row = self._query(
            "SELECT run_id, host, pid, acquired_at, backend_pid,"
            " now() - renewed_at > lease_s * interval '1 second'"
            " FROM locks WHERE state_id = %s",
            (state_id,),
        )
        if not row or not row[0][5]:
            holder = (
                f"run {row[0][0]}, pid {row[0][2]} on {row[0][1]}, since {row[0][3]}"
                if row
                else "its lock is being taken"
            )
            raise JobLockedError(
                f"job {state_id} is already running ({holder}); wait for it to finish or stop it"
            )
        stale_run, backend_pid = row[0][0], row[0][4]
        log.warning(
            "run %s of %s stopped renewing its lease; ending its lock connection",
            stale_run,
            state_id,
        )
        self._query("SELECT pg_terminate_backend(%s)", (backend_pid,))
        deadline = time.monotonic() + _TAKEOVER_WAIT_SECONDS
        while not conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:  # type: ignore[index]
            if time.monotonic() > deadline:
                raise JobLockedError(
                    f"job {state_id}: the lock of run {stale_run} could not be taken over"
                )
            time.sleep(0.1)

    def _claim(self, held: _HeldLock) -> LockHolder | None:
        """With the advisory lock held: take a new token, mark the run it replaces abandoned."""
        host, pid, pid_started = current_process_identity()
        backend_pid = held.conn.info.backend_pid
        with self._transaction() as db:
            row = db.execute(
                "SELECT state_id, run_id, host, pid, pid_started, acquired_at FROM locks"
                " WHERE state_id = %s FOR UPDATE",
                (held.state_id,),
            ).fetchone()
            stale = LockHolder(*row) if row else None
            if stale is not None:
                db.execute(
                    "UPDATE runs SET status = 'abandoned', error = %s WHERE run_id = %s"
                    " AND status = 'running'",
                    ("its dativo stopped, or lost its lock, before finishing", stale.run_id),
                )
            held.token = db.execute(
                "INSERT INTO locks VALUES (%s, %s, nextval('fencing_tokens'), %s, %s, %s, %s,"
                " %s, %s, now()) ON CONFLICT (state_id) DO UPDATE SET run_id = excluded.run_id,"
                " token = excluded.token, host = excluded.host, pid = excluded.pid,"
                " pid_started = excluded.pid_started, acquired_at = excluded.acquired_at,"
                " backend_pid = excluded.backend_pid, lease_s = excluded.lease_s,"
                " renewed_at = excluded.renewed_at RETURNING token",
                (
                    held.state_id,
                    held.run_id,
                    host,
                    pid,
                    pid_started,
                    utc_now(),
                    backend_pid,
                    self.lease_seconds,
                ),
            ).fetchone()[0]  # type: ignore[index]
        return stale

    def release_lock(self, state_id: str, run_id: str) -> None:
        held = self._held.pop((state_id, run_id), None)
        try:
            with self._transaction() as db:
                db.execute(
                    "DELETE FROM locks WHERE state_id = %s AND run_id = %s", (state_id, run_id)
                )
        finally:
            if held is not None:
                held.close()

    def mark_abandoned_runs(self) -> list[str]:
        """Locks whose holder's connection is gone (Postgres has freed its advisory lock):
        delete them and mark their runs abandoned."""
        with self._transaction() as db:
            gone = [
                row[0]
                for row in db.execute(
                    "DELETE FROM locks WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a"
                    " WHERE a.pid = locks.backend_pid) RETURNING run_id"
                ).fetchall()
            ]
            if gone:
                db.execute(
                    "UPDATE runs SET status = 'abandoned', error = %s"
                    " WHERE run_id = ANY(%s) AND status = 'running'",
                    ("its dativo stopped before finishing (its lock connection is gone)", gone),
                )
        return gone

    def close(self) -> None:
        for held in list(self._held.values()):
            held.close()
        self._held.clear()
        with self._mutex:
            self._db.close()
