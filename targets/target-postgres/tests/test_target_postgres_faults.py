"""Faults: kill -9 mid-batch, bad input, values Postgres refuses, bounded memory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("both_encodings")  # spaced and compact lines

REPO = Path(__file__).resolve().parents[3]
USERS = {"id": {"type": "integer"}, "v": {"type": ["integer", "null"]}}


def users(pg, *messages: dict) -> bytes:
    return pg.singer(pg.schema_message("users", USERS), *messages)


def test_kill_9_mid_batch_leaves_only_committed_batches_covering_the_echoed_state(pg):
    config = pg.tagged_config(pg.schema, batch_size_rows=100, max_batch_age_seconds=3600)
    payload = "x" * 2000  # big rows, so the open batch's COPY has reached the server
    schema = pg.schema_message("users", {"id": {"type": "integer"}, "p": {"type": "string"}})
    messages = [schema]
    for i in range(1, 251):
        messages.append(pg.record("users", id=i, p=payload))
        if i % 10 == 0:
            messages.append(pg.state(i))
    with subprocess.Popen(
        [pg.executable, "--config", str(config)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(pg.singer(*messages))
        process.stdin.flush()
        echoed = [json.loads(process.stdout.readline()) for _ in range(4)]
        deadline = time.monotonic() + 30
        while not pg.query(  # rows of the third batch are in the server's open transaction
            "SELECT 1 FROM pg_stat_progress_copy p JOIN pg_stat_activity a USING (pid) "
            "WHERE a.application_name = %s AND p.tuples_processed > 0",
            (pg.schema,),
        ):
            assert time.monotonic() < deadline, "the third batch never reached the server"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    # a commit echoes the state before it; the state right after it (nothing pending) follows
    assert echoed == [pg.state(n)["value"] for n in (90, 100, 190, 200)]
    ids = [row[0] for row in pg.query("SELECT id FROM {schema}.users ORDER BY id")]
    assert ids == list(range(1, 201))  # whole batches only; everything up to state 190


def test_malformed_line_fails_with_its_number_after_committing_what_came_before(pg):
    good = users(pg, pg.record("users", id=1), pg.state(1), pg.record("users", id=2))
    result = pg.run(
        good + b'{"type": "RECORD", "stream":\n' + pg.singer(pg.state(2)),
        max_batch_age_seconds=3600,
    )
    assert result.returncode == 1
    assert b"input line 5: not valid JSON" in result.stderr
    assert pg.query("SELECT id FROM {schema}.users ORDER BY id") == [(1,), (2,)]
    assert pg.echoed(result) == [pg.state(1)["value"]]


def test_earlier_runs_survive_a_failed_one(pg):
    pg.load(users(pg, pg.record("users", id=1), pg.state(1)))
    result = pg.run(users(pg, pg.record("users", id=2, v="not a number"), pg.state(2)))
    assert result.returncode == 1
    assert pg.query("SELECT id FROM {schema}.users") == [(1,)]
    assert result.stdout == b""


def test_a_value_postgres_refuses_names_line_and_field_and_rolls_the_batch_back(pg):
    stream = users(
        pg,
        pg.record("users", id=1, v=1),
        pg.state(1),
        pg.record("users", id=2, v=2),
        pg.record("users", id=3, v="three"),
    )
    result = pg.run(stream, batch_size_rows=1)
    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert "input line 5" in stderr and "field 'v'" in stderr and "three" in stderr
    assert pg.query("SELECT id FROM {schema}.users ORDER BY id") == [(1,), (2,)]
    assert pg.echoed(result) == [pg.state(1)["value"]]


def test_validate_records_names_stream_key_and_field(pg):
    stream = users(pg, pg.record("users", id=1, v=1), pg.record("users", id=7, v="seven"))
    result = pg.run(stream, validate_records=True)
    assert result.returncode == 1
    assert (
        b"input line 3: RECORD for stream 'users' (key {'id': 7}) does not fit its schema: "
        b"field 'v': 'seven' is not of type integer or null" in result.stderr
    )
    assert pg.query("SELECT id FROM {schema}.users") == [(1,)]


def test_missing_key_property_is_an_error_with_its_line(pg):
    result = pg.run(users(pg, pg.record("users", id=1), pg.record("users", v=2)))
    assert result.returncode == 1
    assert b"input line 3: RECORD for stream 'users' lacks key property 'id'" in result.stderr
    assert pg.query("SELECT id FROM {schema}.users") == [(1,)]


def test_record_before_its_schema_is_an_error_with_its_line(pg):
    result = pg.run(users(pg, pg.record("orders", id=1)))
    assert result.returncode == 1
    assert b"input line 2: RECORD for stream 'orders' arrived before its SCHEMA" in result.stderr


def test_key_property_missing_from_the_schema_is_refused(pg):
    result = pg.run(pg.singer(pg.schema_message("users", {"v": {"type": "integer"}})))
    assert result.returncode == 1
    assert b"input line 1: SCHEMA for stream 'users': key properties ['id']" in result.stderr


def test_nul_characters_fail_or_are_replaced_when_asked(pg):
    stream = users(pg, pg.record("users", id=1), {**pg.record("users", id=2), "x": "\u0000"})
    assert pg.run(stream).returncode == 0  # \u0000 outside the record is no problem
    named = pg.singer(
        pg.schema_message("notes", {"id": {"type": "integer"}, "t": {"type": "string"}}),
        pg.record("notes", id=1, t="a\u0000b"),
    )
    result = pg.run(named)
    assert result.returncode == 1
    assert b"input line 2" in result.stderr and b"sanitize_null_text_characters" in result.stderr
    pg.load(named, sanitize_null_text_characters=True)
    assert pg.query("SELECT t FROM {schema}.notes") == [("a\ufffdb",)]


def test_unknown_message_types_warn_once_and_blank_lines_are_skipped(pg):
    odd = {"type": "SOMETHING_NEW", "stream": "users"}
    result = pg.load(users(pg, odd, pg.record("users", id=1), odd) + b"\n  \n")
    assert result.stderr.count(b"warning") == 1 and b"SOMETHING_NEW" in result.stderr
    assert pg.query("SELECT id FROM {schema}.users") == [(1,)]


def _peak_rss_kib(pg, stream: Path) -> int:
    config = pg.config(batch_size_rows=2000)
    with stream.open("rb") as stdin:
        process = subprocess.Popen(
            [pg.executable, "--config", str(config)], stdin=stdin, stdout=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0
    return usage.ru_maxrss


def test_memory_is_bounded_by_the_batch_size(pg, tmp_path: Path):
    generator = REPO / "bench" / "programs" / "gen_stream.py"
    peaks = []
    for records in (4_000, 24_000):
        stream = tmp_path / f"{records}.singer"
        subprocess.run(
            [sys.executable, str(generator), "--records", str(records), "--out", str(stream)],
            check=True,
        )
        peaks.append(_peak_rss_kib(pg, stream))
        pg.query("DROP TABLE {schema}.events")
    assert peaks[1] < peaks[0] + 4096, peaks  # six times the records, not 4 MiB more memory


def test_a_lost_session_exits_5_without_echoing_the_open_batch_state(pg):
    config = pg.tagged_config(pg.schema, batch_size_rows=2, max_batch_age_seconds=3600)
    with subprocess.Popen(
        [pg.executable, "--config", str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(
            users(pg, pg.record("users", id=1), pg.state(1), pg.record("users", id=2))
        )
        process.stdin.write(pg.singer(pg.state(2), pg.record("users", id=3)))
        process.stdin.flush()
        first = process.stdout.readline()  # the first batch is committed
        pg.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (pg.schema,),
        )
        process.stdin.write(pg.singer(pg.record("users", id=4), pg.state(4)))
        process.stdin.close()
        assert process.wait(timeout=60) == 5
        rest, stderr = process.stdout.read(), process.stderr.read()
    # state 2 came with nothing pending (echoed at once); state 4's batch was lost
    assert json.loads(first) == pg.state(1)["value"]
    assert [json.loads(line) for line in rest.splitlines()] == [pg.state(2)["value"]]
    assert b"TransientError: lost the Postgres session" in stderr
    assert pg.query("SELECT id FROM {schema}.users ORDER BY id") == [(1,), (2,)]
