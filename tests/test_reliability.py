"""Retries of transient failures, run and idle timeouts, and abandoned runs, with real
processes (the scriptable fake tap and target)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

from dativo_ingest.state import open_store
from tests.conftest import DATIVO, PROGRAMS

FAST_RETRY = {"attempts": 3, "initial_delay": 0.1, "jitter": 0}


def runs_of(home: Path) -> list:
    store = open_store(home)
    try:
        return list(reversed(store.list_runs(20)))
    finally:
        store.close()


def received_ids(path: Path) -> list[int]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return [m["record"]["id"] for m in lines if m["type"] == "RECORD"]


def test_a_transient_failure_twice_then_success_takes_three_attempts(
    tmp_path, home, write_job, dativo
):
    received = tmp_path / "received.jsonl"
    job = write_job(
        source={
            "records": 100,
            "state_every": 10,
            "fail_after": 30,
            "fail_exit_code": 5,
            "fail_runs": [str(tmp_path / "runs"), 2],
        },
        target={"received": str(received)},
        retry=FAST_RETRY,
    )
    result = dativo("run", job)
    assert result.returncode == 0, result.stderr
    assert "attempt 1 of 3 failed (fake_tap.py exited 5 (transient error))" in result.stderr
    runs = runs_of(home)
    assert [(r.attempt, r.status) for r in runs] == [(1, "failed"), (2, "failed"), (3, "succeeded")]
    assert [r.retry_reason for r in runs] == [
        None,
        "fake_tap.py exited 5 (transient error)",
        "fake_tap.py exited 5 (transient error)",
    ]
    # each attempt resumed from the state the target had confirmed (30, then 60)
    assert received_ids(received) == list(range(61, 161))  # the last attempt's input
    assert [r.records for r in runs] == [30, 30, 100]
    table = dativo("runs").stdout.splitlines()
    assert table[0].split()[6] == "TRY"
    assert [line.split()[6] for line in table[1:]] == ["3", "2", "1"]


def test_an_authentication_failure_is_not_retried(home, write_job, dativo):
    job = write_job(
        source={
            "fail_after": 0,
            "fail_exit_code": 4,
            "fail_message": "fake_tap: AuthenticationError: password authentication failed",
        },
        retry=FAST_RETRY,
    )
    result = dativo("run", job)
    assert result.returncode == 1
    assert "fake_tap.py failed with exit code 4" in result.stderr
    assert [r.attempt for r in runs_of(home)] == [1]


def test_a_connection_error_in_stderr_is_retried_but_a_plain_failure_is_not(
    tmp_path, home, write_job, dativo
):
    refused = write_job(
        name="refused",
        source={
            "fail_after": 0,
            "fail_exit_code": 1,
            "fail_message": "psycopg.OperationalError: connection refused",
            "fail_runs": [str(tmp_path / "refused"), 1],
        },
        retry=FAST_RETRY,
    )
    assert dativo("run", refused).returncode == 0
    plain = write_job(name="plain", source={"fail_after": 0, "fail_exit_code": 1}, retry=True)
    assert dativo("run", plain).returncode == 1
    attempts = {(r.state_id, r.attempt, r.status) for r in runs_of(home)}
    assert attempts == {
        ("acme/refused", 1, "failed"),
        ("acme/refused", 2, "succeeded"),
        ("acme/plain", 1, "failed"),
    }


def test_an_airbyte_transient_error_trace_is_retried_and_a_config_error_is_not(
    home, tmp_path, dativo
):
    source = str(PROGRAMS / "fake_airbyte_source.py")
    for failure_type, attempts in (("transient_error", 2), ("config_error", 1)):
        job = tmp_path / f"{failure_type}.yaml"
        job.write_text(
            json.dumps(
                {
                    "tenant_id": "acme",
                    "name": failure_type.replace("_", "-"),
                    "retry": {"attempts": 2, "initial_delay": 0.1},
                    "source": {
                        "executable": source,
                        "protocol": "airbyte",
                        "config": {"trace_error": "rate limited", "failure_type": failure_type},
                    },
                    "target": {"executable": str(PROGRAMS / "fake_target.py")},
                }
            )
        )
        result = dativo("run", job)
        assert result.returncode == 1
        assert f"reported an error ({failure_type}" in result.stderr
        state_id = f"acme/{failure_type.replace('_', '-')}"
        assert len([r for r in runs_of(home) if r.state_id == state_id]) == attempts


def test_a_silent_tap_fails_within_idle_timeout_naming_the_tap(home, write_job, dativo):
    job = write_job(
        source={"records": 100, "state_every": 5, "sleep_after": 10, "sleep_seconds": 120},
        idle_timeout=1.5,
    )
    began = time.monotonic()
    result = dativo("run", job, "--grace-seconds", "2")
    took = time.monotonic() - began
    assert result.returncode == 1
    assert "fake_tap.py stalled: it sent nothing for 1.5s (idle_timeout)" in result.stderr
    assert "before that it sent 10 records" in result.stderr
    assert took < 1.5 + 2 + 5, took
    run = runs_of(home)[-1]
    assert run.status == "failed" and run.states_saved == 2  # states at 5 and 10 were kept
    assert run.resources["source"]["stalled"] == "it sent nothing for 1.5s (idle_timeout)"
    assert "stalled" not in run.resources["target"]


def test_a_target_that_stops_reading_fails_within_idle_timeout_naming_it(write_job, dativo):
    job = write_job(
        source={"records": 2_000_000, "state_every": 1000},
        target={"stop_reading_after": 5000},
        idle_timeout=1.5,
    )
    began = time.monotonic()
    result = dativo("run", job, "--grace-seconds", "2")
    assert result.returncode == 1
    assert "fake_target.py stalled: it read no input for 1.5s (idle_timeout)" in result.stderr
    assert "it last confirmed a state" in result.stderr
    assert time.monotonic() - began < 1.5 + 2 + 8


def test_the_run_timeout_stops_the_run_and_is_not_retried(home, write_job, dativo):
    job = write_job(
        source={"records": 100, "sleep_after": 3, "sleep_seconds": 120},
        timeout="2s",
        retry=FAST_RETRY,
    )
    result = dativo("run", job, "--grace-seconds", "2")
    assert result.returncode == 1
    assert "the run exceeded its timeout of 2s; fake_tap.py had sent 3 records" in result.stderr
    assert len(runs_of(home)) == 1


def test_sigterm_between_attempts_ends_the_run_at_once(home, env, write_job):
    job = write_job(
        source={"fail_after": 0, "fail_exit_code": 5},
        retry={"attempts": 3, "initial_delay": 60, "jitter": 0},
    )
    run = subprocess.Popen([DATIVO, "run", str(job)], env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not runs_of(home) or runs_of(home)[-1].status == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(0.3)
    run.send_signal(signal.SIGTERM)
    _, stderr = run.communicate(timeout=10)
    assert run.returncode == 143, stderr
    assert "attempt 2 starts in 60.0s" in stderr


def test_any_command_marks_the_runs_of_a_dead_dativo_abandoned(home, env, write_job, dativo):
    job = write_job(source={"records": 100, "sleep_after": 3, "sleep_seconds": 120})
    run = subprocess.Popen([DATIVO, "run", str(job)], env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not runs_of(home):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    run.kill()
    run.wait()
    listed = dativo("runs", "--json")
    assert json.loads(listed.stdout)[0]["status"] == "abandoned"


def test_twenty_jobs_at_once_on_one_store_store_every_state_and_run(home, write_job, dativo):
    jobs = [
        write_job(name=f"job-{n:02d}", source={"records": 100 + n, "state_every": 5})
        for n in range(20)
    ]
    result = dativo("run", *jobs, "--parallel", "20", timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "database is locked" not in result.stderr
    assert result.stdout.count("succeeded") == 20
    store = open_store(home)
    try:
        states = {s.state_id: s.value for s in store.list_states()}
        runs = store.list_runs(100)
    finally:
        store.close()
    assert states == {
        f"acme/job-{n:02d}": {"bookmarks": {"items": {"last_id": 100 + n}}} for n in range(20)
    }
    assert sorted(r.state_id for r in runs if r.status == "succeeded") == sorted(states)
    assert all(r.states_saved >= 21 for r in runs)  # every 5 records, and the last


def test_parallel_jobs_report_each_outcome_and_exit_with_the_failure(write_job, dativo):
    good = write_job(name="good", source={"records": 5})
    bad = write_job(name="bad", source={"fail_after": 0})
    result = dativo("run", good, bad, "--parallel", "2")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("succeeded") and lines[0].endswith(str(good))
    assert lines[1].startswith("failed (exit 1)") and lines[1].endswith(str(bad))
    assert "fake_tap.py failed with exit code 3" in result.stderr
