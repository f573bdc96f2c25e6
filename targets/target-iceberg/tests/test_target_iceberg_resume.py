"""Exactly-once across runs: a run resuming from a stored STATE older than what the table holds
(the orchestrator died between a commit and storing its state) skips what the load committed
after that STATE, re-echoes the STATEs the earlier run marked and holds back the others."""

from __future__ import annotations

import hashlib
import json
import signal

import orjson
import pytest

JOB = "acme/orders"


def point(value: object) -> str:
    """``$DATIVO_RESUME_POINT`` of a stored state (the contract dativo and the target share)."""
    return "state:" + hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()


@pytest.fixture
def load(monkeypatch):
    """Runs of one job (``$DATIVO_STATE_ID``), each resuming from the point it is given."""
    monkeypatch.setenv("DATIVO_STATE_ID", JOB)

    def resume_from(value: object | None, run_id: str) -> None:
        monkeypatch.setenv("DATIVO_RESUME_POINT", "start" if value is None else point(value))
        monkeypatch.setenv("DATIVO_RUN_ID", run_id)

    return resume_from


def records(iceberg, first: int, last: int) -> list[dict]:
    return [iceberg.record(id_=index, name=f"n{index}") for index in range(first, last + 1)]


@pytest.mark.parametrize("lines", ["encode", "compact"])  # compact: records in short runs
def test_rerun_from_an_older_state_skips_what_the_table_holds(iceberg, load, lines):
    state, encode = iceberg.state, getattr(iceberg, lines)
    # run A: flushes after records 4 (echoing state 3) and 8 (echoing state 6), then dies
    load(None, "a")
    first = [iceberg.schema(), *records(iceberg, 1, 3), state(3), *records(iceberg, 4, 6)]
    first += [state(6), *records(iceberg, 7, 8)]
    process = iceberg.start(batch_size_rows=4)
    try:
        process.stdin.write(encode(*first))
        process.stdin.flush()
        echoed = [json.loads(process.stdout.readline()) for _ in range(2)]
        assert echoed == [state(3)["value"], state(6)["value"]]
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        process.stdin.close()
        process.stdout.close()
    assert sorted(row["id"] for row in iceberg.rows()) == list(range(1, 9))

    # the orchestrator stored state 3 only: run B's source resumes from it, and sends a STATE
    # (5) run A never echoed, which B holds back while it skips records 4-8
    load(state(3)["value"], "b")
    second = [iceberg.schema(), *records(iceberg, 4, 5), state(5), records(iceberg, 6, 6)[0]]
    second += [state(6), *records(iceberg, 7, 10), state(10)]
    result = iceberg.run(encode(*second), batch_size_rows=4)
    assert result.returncode == 0, result.stderr.decode()
    assert b"already committed the next 5 records" in result.stderr
    assert b"5 skipped as already committed, 1 STATEs held back" in result.stderr
    assert iceberg.echoed(result) == [state(6)["value"], state(10)["value"]]
    assert sorted(row["id"] for row in iceberg.rows()) == list(range(1, 11))

    # the orchestrator stored B's re-echoed state 6, then died: run C skips 7-10 by B's marks
    load(state(6)["value"], "c")
    third = [iceberg.schema(), *records(iceberg, 7, 11), state(11)]
    result = iceberg.run(encode(*third), batch_size_rows=4)
    assert result.returncode == 0, result.stderr.decode()
    assert b"4 skipped as already committed" in result.stderr
    assert iceberg.echoed(result)[-1] == state(11)["value"]
    rows = sorted(iceberg.rows(), key=lambda row: row["id"])
    assert rows == [{"id": index, "name": f"n{index}"} for index in range(1, 12)]
    assert [mark[1:] for mark in iceberg.marks()] == [
        ("a", "1", "4"),
        ("a", "2", "8"),
        ("b", "1", "7"),
        ("c", "1", "5"),
    ]


def test_a_run_from_the_last_echoed_state_skips_nothing(iceberg, load):
    """The usual case: the stored state is the last one echoed; nothing after it is held."""
    load(None, "a")
    first = iceberg.encode(iceberg.schema(), *records(iceberg, 1, 2), iceberg.state(2))
    assert iceberg.run(first).returncode == 0
    load(iceberg.state(2)["value"], "b")
    second = iceberg.encode(iceberg.schema(), *records(iceberg, 3, 4), iceberg.state(4))
    result = iceberg.run(second)
    assert result.returncode == 0, result.stderr.decode()
    assert b"skipped" not in result.stderr
    assert sorted(row["id"] for row in iceberg.rows()) == [1, 2, 3, 4]


def test_another_job_writing_the_same_table_is_another_load(iceberg, load, monkeypatch):
    """Marks count only within a job's load: the same STATE from another job skips nothing."""
    load(None, "a")
    stream = iceberg.encode(iceberg.schema(), *records(iceberg, 1, 2), iceberg.state(2))
    assert iceberg.run(stream).returncode == 0
    monkeypatch.setenv("DATIVO_STATE_ID", "acme/other")
    load(None, "b")
    assert iceberg.run(stream).returncode == 0
    assert sorted(row["id"] for row in iceberg.rows()) == [1, 1, 2, 2]


def test_a_source_sending_fewer_records_than_the_table_holds_is_reported(iceberg, load):
    """A rerun whose input ends inside what the load committed (the source changed) writes
    nothing, echoes no STATE it cannot place and says so."""
    load(None, "a")
    first = iceberg.encode(iceberg.schema(), *records(iceberg, 1, 4), iceberg.state(4))
    assert iceberg.run(first).returncode == 0
    load(None, "b")  # as if the state of run a was never stored
    second = iceberg.encode(iceberg.schema(), *records(iceberg, 1, 2), iceberg.state(2))
    result = iceberg.run(second)
    assert result.returncode == 0, result.stderr.decode()
    assert b"the input ended after 2 records, before the 4 the load had committed" in (
        result.stderr
    )
    assert iceberg.echoed(result) == []
    assert sorted(row["id"] for row in iceberg.rows()) == [1, 2, 3, 4]
