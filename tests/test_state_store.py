"""The state stores (SQLite and Postgres): atomic states, empty states ignored, locks and
fencing, run history. Every test runs against both backends."""

from __future__ import annotations

import sqlite3

import pytest

from dativo_ingest.exceptions import JobLockedError, StateFencedError
from dativo_ingest.state import RunRecord, open_store


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
            RunRecord(
                run_id,
                "t/j",
                "job.yaml",
                run_id,
                streams={"s": 3},
                worker="w1",
                contracts={"s": {"contract": "c@1", "passed": 2, "drift": {"s.x": 1}}},
            )
        )
    store.record_run(
        RunRecord("20260102T000000-bbbbbb", "t/j", "job.yaml", "20260102T000000-bbbbbb", "ok")
    )
    runs = store.list_runs()
    assert [r.run_id for r in runs] == ["20260102T000000-bbbbbb", "20260101T000000-aaaaaa"]
    assert (runs[0].status, runs[1].streams, runs[1].worker) == ("ok", {"s": 3}, "w1")
    assert runs[1].contracts == {"s": {"contract": "c@1", "passed": 2, "drift": {"s.x": 1}}}
    assert runs[0].contracts == {}
    assert store.list_runs(1, state_id="other/job") == []


def test_a_sqlite_store_from_before_contracts_gains_the_column(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # the runs table as it was before the contracts column
        db.execute(
            "CREATE TABLE runs (run_id TEXT PRIMARY KEY, state_id TEXT NOT NULL,"
            " job_file TEXT NOT NULL, started_at TEXT NOT NULL, status TEXT NOT NULL,"
            " ended_at TEXT, duration_s REAL, source_exit INTEGER, target_exit INTEGER,"
            " records INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,"
            " states_saved INTEGER NOT NULL DEFAULT 0, streams TEXT NOT NULL DEFAULT '{}',"
            " orchestrator_peak_rss_bytes INTEGER, error TEXT)"
        )
        db.execute(
            "INSERT INTO runs (run_id, state_id, job_file, started_at, status)"
            " VALUES ('old', 't/j', 'job.yaml', '2026-01-01', 'succeeded')"
        )
    store = open_store(url=f"sqlite:///{path}")
    store.record_run(RunRecord("new", "t/j", "job.yaml", "2026-01-02", contracts={"s": {}}))
    assert {r.run_id: r.contracts for r in store.list_runs()} == {"new": {"s": {}}, "old": {}}
