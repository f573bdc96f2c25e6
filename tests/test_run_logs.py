"""A log file per run, a calm terminal, ``dativo logs``, JSON logs, and secrets masked in all."""

from __future__ import annotations

import json
import os
import subprocess
import time

import yaml

from dativo_ingest.state import open_store
from tests.conftest import DATIVO, FAKE_TARGET, PROGRAMS

FAKE_AIRBYTE_SOURCE = str(PROGRAMS / "fake_airbyte_source.py")

SECRET = "s3cr3t-pw-4711"
CHATTER = [
    "2024-05-01 10:00:00,123 | INFO     | fake-tap             | Skipping parse of env var",
    "2024-05-01 10:00:00,124 | WARNING  | fake-tap             | the API is deprecated",
    "second line of the warning",
    "Traceback (most recent call last):",
    '  File "fake.py", line 1, in <module>',
    "KeyError: 'id'",
]


def chatty_job(write_job, **source):
    return write_job(
        source={"records": 20, "stderr_lines": CHATTER, "password": "${TAP_PW}", **source}
    )


def test_connector_info_goes_to_the_run_log_not_the_terminal(home, write_job, dativo, env):
    env = {**env, "TAP_PW": SECRET}
    job = chatty_job(write_job, print_password=True)
    first = dativo("run", job, env=env)
    assert first.returncode == 0, first.stderr
    assert "Skipping parse" not in first.stderr and "connecting with" not in first.stderr
    assert "WARNING [fake_tap.py] fake-tap | the API is deprecated" in first.stderr
    # a multi-line message keeps its prefix on every line; a traceback is one ERROR message
    assert "WARNING [fake_tap.py] second line of the warning" in first.stderr
    assert 'ERROR   [fake_tap.py]   File "fake.py", line 1, in <module>' in first.stderr
    second = dativo("-v", "run", job, env=env)
    assert "INFO    [fake_tap.py] fake-tap | Skipping parse of env var" in second.stderr

    runs = open_store(home).list_runs()
    assert [run.log_path is not None for run in runs] == [True, True]
    for run in runs:  # either run's full log, found by run id
        shown = dativo("logs", run.run_id, env=env)
        assert shown.returncode == 0, shown.stderr
        assert "Skipping parse of env var" in shown.stdout
        assert "connecting with password ***" in shown.stdout
        assert f"run {run.run_id} succeeded in" in shown.stdout
    latest = dativo("logs", "acme/job", "--level", "WARNING", "--side", "source").stdout
    assert "deprecated" in latest and "Skipping" not in latest and "succeeded" not in latest
    assert "fake_target.py" not in dativo("logs", "--side", "source").stdout
    assert dativo("logs", "acme/job", "--side", "target").stdout.count("[fake_target.py]") == 1
    for path in home.rglob("*"):
        assert not path.is_file() or SECRET.encode() not in path.read_bytes(), path


def test_json_logs_have_one_object_per_line_with_the_run_context(home, write_job, dativo, env):
    env = {**env, "TAP_PW": SECRET}
    job = chatty_job(write_job, print_password=True)
    result = dativo("--log-format", "json", "-v", "run", job, "--progress-seconds", "0.2", env=env)
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stderr
    entries = [json.loads(line) for line in result.stderr.splitlines()]
    keys = {"time", "level", "logger", "run_id", "state_id", "side", "connector", "message"}
    assert all(keys <= entry.keys() for entry in entries)
    run_id = open_store(home).list_runs()[0].run_id
    assert {(e["run_id"], e["state_id"]) for e in entries} == {(run_id, "acme/job")}
    by_message = {e["message"]: e for e in entries}
    password = by_message["connecting with password ***"]
    assert (password["side"], password["connector"], password["level"]) == (
        "source",
        "fake_tap.py",
        "INFO",
    )
    assert by_message["fake-tap | the API is deprecated"]["level"] == "WARNING"
    # `dativo logs` in JSON prints the run log's own lines, the same shape
    logged = dativo("--log-format", "json", "logs", run_id).stdout.splitlines()
    assert all(keys <= json.loads(line).keys() for line in logged)
    assert SECRET not in "\n".join(logged)


def test_a_failed_runs_error_is_in_its_log(home, write_job, dativo):
    result = dativo("run", write_job(source={"records": 50, "fail_after": 10}))
    assert result.returncode == 1
    shown = dativo("logs", "--level", "ERROR").stdout
    assert "fake_tap.py failed with exit code 3" in shown
    assert "simulated failure after 10 records" in shown


def test_follow_prints_a_running_runs_log_until_it_ends(write_job, dativo, env):
    job = write_job(source={"records": 40, "sleep_after": 20, "sleep_seconds": 2})
    run = subprocess.Popen([DATIVO, "run", str(job)], env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while dativo("logs", "acme/job").returncode != 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        follow = dativo("logs", "--follow", "acme/job", timeout=30)
    finally:
        run.wait(30)
    assert follow.returncode == 0, follow.stderr
    assert "succeeded in" in follow.stdout.splitlines()[-1]


def test_old_logs_are_pruned_by_the_retention_setting(home, write_job, dativo, env):
    job = write_job(source={"records": 3})
    assert dativo("run", job).returncode == 0
    (first,) = (home / "logs" / "acme" / "job").glob("*.log")
    week_ago = time.time() - 7 * 86400
    os.utime(first, (week_ago, week_ago))
    pruned = dativo("run", job, env={**env, "DATIVO_LOG_RETENTION_DAYS": "5"})
    assert pruned.returncode == 0 and not first.exists()
    assert len(list(first.parent.glob("*.log"))) == 1
    bad = dativo("run", job, env={**env, "DATIVO_LOG_RETENTION_DAYS": "a week"})
    assert (
        bad.returncode == 2 and "DATIVO_LOG_RETENTION_DAYS='a week' is not a number" in bad.stderr
    )
    assert "took over the lock" not in dativo("run", job).stderr  # the bad setting took none


def test_airbyte_log_messages_are_logged_at_their_level_under_the_source(tmp_path, dativo):
    job = tmp_path / "ab.yaml"
    spec = {
        "tenant_id": "acme",
        "name": "ab",
        "source": {"executable": FAKE_AIRBYTE_SOURCE, "protocol": "airbyte", "config": {}},
        "target": {"executable": FAKE_TARGET, "config": {}},
    }
    job.write_text(yaml.safe_dump(spec))
    result = dativo("run", job)
    assert result.returncode == 0, result.stderr
    assert "fake source starting" not in result.stderr  # an Airbyte INFO LOG message
    shown = dativo("logs", "acme/ab", "--side", "source").stdout
    assert "INFO    [fake_airbyte_source.py] fake source starting" in shown
