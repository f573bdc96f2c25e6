"""`dativo state` and `dativo runs` through the real command."""

from __future__ import annotations

import json


def test_state_set_get_list_clear(tmp_path, dativo):
    state_file = tmp_path / "state.json"
    state_file.write_text('{"bookmarks": {"orders": {"id": 7}}}')
    assert dativo("state", "set", "acme/orders", state_file).returncode == 0
    got = dativo("state", "get", "acme/orders")
    assert got.returncode == 0 and json.loads(got.stdout) == {"bookmarks": {"orders": {"id": 7}}}
    assert dativo("state", "list").stdout.startswith("acme/orders\t")
    assert dativo("state", "clear", "acme/orders").returncode == 0
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
