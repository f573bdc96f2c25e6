"""The state stores (SQLite and Postgres): atomic states, empty states ignored, locks and
fencing, run history. Every test runs against both backends."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from dativo_ingest.exceptions import JobLockedError, StateFencedError
from dativo_ingest.state import IncrementalStateManager, RunRecord, open_store
from dativo_ingest.state.postgres import PostgresStateStore


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "sqlite":
        store = open_store(tmp_path)
    else:
        store = open_store(url=request.getfixturevalue("pg_state_url"))
    yield store
    store.close()


def test_state_roundtrip(store):
    assert store.get_state("a/b") is None
    assert store.set_state("a/b", {"bookmarks": {"x": 1}})
    store.acquire_lock("a/b", "run-1")
    assert store.set_state("a/b", {"bookmarks": {"x": 2, "d": "1.10"}}, "run-1")
    stored = store.get_state("a/b")
    assert (stored.value, stored.run_id) == ({"bookmarks": {"x": 2, "d": "1.10"}}, "run-1")


def test_sqlite_store_uses_wal_mode(tmp_path):
    open_store(tmp_path).close()
    with sqlite3.connect(tmp_path / "dativo.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize("empty", [None, {}, [], ""])
def test_empty_states_never_overwrite(store, empty):
    store.set_state("a/b", {"x": 1})
    assert store.set_state("a/b", empty) is False
    assert store.get_state("a/b").value == {"x": 1}


def test_list_and_clear(store):
    store.set_state("t/one", {"x": 1})
    store.set_state("t/two", {"x": 2})
    assert [s.state_id for s in store.list_states()] == ["t/one", "t/two"]
    assert store.clear_state("t/one") and not store.clear_state("t/one")
    assert [s.state_id for s in store.list_states()] == ["t/two"]


def test_lock_is_exclusive_while_the_holder_lives(store):
    assert store.acquire_lock("t/j", "run-1") is None
    with pytest.raises(JobLockedError, match="job t/j is already running"):
        store.acquire_lock("t/j", "run-2")
    store.release_lock("t/j", "run-1")
    assert store.acquire_lock("t/j", "run-3") is None


def test_a_run_that_lost_its_lock_cannot_write_state(store):
    store.acquire_lock("t/j", "run-1")
    store.set_state("t/j", {"v": 1}, "run-1")
    store.release_lock("t/j", "run-1")
    store.acquire_lock("t/j", "run-2")
    with pytest.raises(StateFencedError, match="run run-2 holds it now"):
        store.set_state("t/j", {"v": "stale"}, "run-1")
    assert store.get_state("t/j").value == {"v": 1}
    assert [(w["run_id"], w["holder_run_id"]) for w in store.fenced_writes("t/j")] == [
        ("run-1", "run-2")
    ]
    assert store.set_state("t/j", {"v": 2}, "run-2")


def test_runs_latest_first_with_streams_and_worker(store):
    for run_id in ("20260101T000000-aaaaaa", "20260102T000000-bbbbbb"):
        store.record_run(
            RunRecord(run_id, "t/j", "job.yaml", run_id, streams={"s": 3}, worker="w1")
        )
    store.record_run(
        RunRecord("20260102T000000-bbbbbb", "t/j", "job.yaml", "20260102T000000-bbbbbb", "ok")
    )
    runs = store.list_runs()
    assert [r.run_id for r in runs] == ["20260102T000000-bbbbbb", "20260101T000000-aaaaaa"]
    assert (runs[0].status, runs[1].streams, runs[1].worker) == ("ok", {"s": 3}, "w1")
    assert store.list_runs(1, state_id="other/job") == []


def test_incremental_state_manager_bookmarks(store):
    manager = IncrementalStateManager(store)
    assert manager.get_state("acme", "csv", "orders") == {}
    assert manager.update_state("acme", "csv", "orders", {"last_sync_timestamp": "2026-01-01"})
    assert not manager.update_state("acme", "csv", "orders", {})
    assert manager.get_state("acme", "csv", "orders") == {"last_sync_timestamp": "2026-01-01"}


# Postgres only: the lock lives on a connection, and a paused holder is fenced off.

_HOLDER = """
import sys, time
from dativo_ingest.state.postgres import PostgresStateStore
store = PostgresStateStore(sys.argv[1], lease_seconds=float(sys.argv[2]))
store.acquire_lock("t/j", "run-held")
print("locked", flush=True)
sys.stdin.readline()  # wait; a write follows
try:
    store.set_state("t/j", {"from": "held"}, "run-held")
    print("written", flush=True)
except Exception as exc:
    print(type(exc).__name__, exc, flush=True)
"""


def _holder(url: str, lease: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, url, str(lease)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline() == "locked\n"
    return holder


def _end(holder: subprocess.Popen[str]) -> None:
    if holder.poll() is None:
        os.kill(holder.pid, signal.SIGCONT)
        holder.kill()
    holder.communicate(timeout=20)


def test_postgres_frees_the_lock_of_a_killed_holder(pg_state_url):
    holder = _holder(pg_state_url, 30)
    store = PostgresStateStore(pg_state_url)
    try:
        with pytest.raises(JobLockedError, match=f"pid {holder.pid}"):
            store.acquire_lock("t/j", "run-next")
        _end(holder)
        stale = store.acquire_lock("t/j", "run-next")
        assert stale is not None and stale.run_id == "run-held"
    finally:
        _end(holder)
        store.close()


def test_postgres_marks_a_killed_holders_run_abandoned_and_frees_its_lock(pg_state_url):
    store = PostgresStateStore(pg_state_url)
    try:
        store.record_run(RunRecord("run-held", "t/j", "job.yaml", "2026-01-01T00:00:00Z"))
        holder = _holder(pg_state_url, 30)
        store.acquire_lock("t/live", "run-live")
        assert store.mark_abandoned_runs() == []  # both holders' connections are alive
        _end(holder)
        assert _eventually(store.mark_abandoned_runs) == ["run-held"]
        assert store.list_runs(state_id="t/j")[0].status == "abandoned"
        assert store.acquire_lock("t/j", "run-next") is None  # the lock row is gone
        with pytest.raises(JobLockedError):
            store.acquire_lock("t/live", "run-other")
    finally:
        store.close()


def _eventually(check, seconds: float = 10.0):
    """``check()`` once it is truthy (Postgres ends a killed client's backend shortly after)."""
    deadline = time.monotonic() + seconds
    while not (found := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def test_postgres_takes_over_a_paused_holder_and_fences_its_write(pg_state_url):
    holder = _holder(pg_state_url, 1.5)
    store = PostgresStateStore(pg_state_url)
    try:
        os.kill(holder.pid, signal.SIGSTOP)
        time.sleep(2.0)  # past the holder's lease
        assert store.acquire_lock("t/j", "run-next").run_id == "run-held"
        os.kill(holder.pid, signal.SIGCONT)
        out, _ = holder.communicate("go\n", timeout=20)
        assert out.startswith("StateFencedError state write of run run-held refused")
        assert store.get_state("t/j") is None
        assert [w["run_id"] for w in store.fenced_writes("t/j")] == ["run-held"]
        store.set_state("t/j", {"from": "next"}, "run-next")
    finally:
        _end(holder)
        store.close()


def test_postgres_schema_is_created_once_and_upgraded(pg_state_url):
    import psycopg

    PostgresStateStore(pg_state_url).close()
    with psycopg.connect(pg_state_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE runs DROP COLUMN worker")  # as written by an older dativo
    store = PostgresStateStore(pg_state_url)  # and again: nothing is created twice
    try:
        store.record_run(RunRecord("r1", "t/j", "job.yaml", "2026-01-01", worker="w9"))
        assert store.list_runs()[0].worker == "w9"
    finally:
        store.close()
    with psycopg.connect(pg_state_url) as conn:
        assert conn.execute("SELECT version FROM dativo_schema").fetchall() == [(1,)]
