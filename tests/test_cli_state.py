"""`dativo state` and `dativo runs` through the real command."""

from __future__ import annotations

import json
import subprocess
import time

from tests.conftest import DATIVO


def test_state_set_get_list_clear(tmp_path, dativo):
    state_file = tmp_path / "state.json"
    state_file.write_text('{"bookmarks": {"orders": {"id": 7}}}')
    put = dativo("state", "set", "acme/orders", state_file)
    assert put.returncode == 0 and "state of acme/orders replaced (none was stored)" in put.stdout
    assert "no job with state id 'acme/orders' has run here" in put.stderr
    got = dativo("state", "get", "acme/orders")
    assert got.returncode == 0 and json.loads(got.stdout) == {"bookmarks": {"orders": {"id": 7}}}
    header, row = dativo("state", "list").stdout.splitlines()
    assert header.split() == ["STATE", "ID", "SAVED", "AT", "BY", "RUN"]
    assert row.split()[0] == "acme/orders"
    cleared = dativo("state", "clear", "acme/orders")
    assert cleared.returncode == 0 and "state of acme/orders cleared" in cleared.stdout
    missing = dativo("state", "get", "acme/orders")
    assert missing.returncode == 2 and "no state stored for 'acme/orders'" in missing.stderr


def test_state_set_from_stdin(dativo):
    assert dativo("state", "set", "acme/x", "-", input='{"a": 1}').returncode == 0
    assert json.loads(dativo("state", "get", "acme/x").stdout) == {"a": 1}


def test_state_set_rejects_bad_input(tmp_path, dativo):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = dativo("state", "set", "acme/x", bad)
    assert result.returncode == 2 and f"{bad} is not valid JSON" in result.stderr
    empty = tmp_path / "empty.json"
    empty.write_text("{}")
    result = dativo("state", "set", "acme/x", empty)
    assert result.returncode == 2 and "non-empty JSON object" in result.stderr
    result = dativo("state", "set", "acme/x", tmp_path / "missing.json")
    assert result.returncode == 2 and "cannot read" in result.stderr


def test_runs_table_and_json(write_job, dativo):
    job = write_job(source={"records": 7})
    assert dativo("run", job).returncode == 0
    table = dativo("runs").stdout.splitlines()
    assert table[0].split()[:3] == ["RUN", "STATE", "ID"]
    assert "acme/job" in table[1] and "succeeded" in table[1] and " 0/0 " in table[1]
    runs = json.loads(dativo("runs", "--json", "--limit", "1").stdout)
    assert len(runs) == 1
    assert runs[0]["records"] == 7 and runs[0]["status"] == "succeeded"
    assert runs[0]["orchestrator_peak_rss_bytes"] > 0


def test_state_clear_refuses_a_running_job_unless_forced(tmp_path, env, write_job, dativo):
    job = write_job(source={"records": 10, "sleep_after": 5, "sleep_seconds": 30})
    run = subprocess.Popen(
        [DATIVO, "run", str(job), "--grace-seconds", "1"],
        env=env,
        cwd=tmp_path,
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while "acme/job" not in dativo("runs").stdout:
            assert time.monotonic() < deadline, "the run did not start"
            time.sleep(0.1)
        state = tmp_path / "state.json"
        state.write_text('{"bookmarks": {}}')
        for action in (["clear", "acme/job"], ["set", "acme/job", str(state)]):
            refused = dativo("state", *action)
            assert refused.returncode == 3, refused.stderr
            assert "job acme/job is already running" in refused.stderr
            assert "--force" in refused.stderr
        forced = dativo("state", "set", "acme/job", state, "--force")
        assert forced.returncode == 0 and "changing its state anyway" in forced.stderr
    finally:
        run.terminate()
        run.wait(timeout=30)
