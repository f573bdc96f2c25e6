"""`dativo run` end to end with real subprocesses: state capture and failure handling."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import psutil

from dativo_ingest.state import open_store


def stored_state(home: Path, state_id: str = "acme/job"):
    store = open_store(home)
    try:
        stored = store.get_state(state_id)
        return None if stored is None else stored.value
    finally:
        store.close()


def last_run(home: Path):
    store = open_store(home)
    try:
        return store.list_runs(1)[0]
    finally:
        store.close()


def bookmark(last_id: int) -> dict:
    return {"bookmarks": {"items": {"last_id": last_id}}}


def test_happy_path_saves_confirmed_state_and_resumes(tmp_path, home, write_job, dativo):
    handed_over = tmp_path / "state-given.json"
    job = write_job(source={"records": 25, "state_every": 10, "state_copy": str(handed_over)})
    first = dativo("run", job)
    assert first.returncode == 0, first.stderr
    assert stored_state(home) == bookmark(25)
    run = last_run(home)
    assert (run.status, run.records, run.states_saved, run.source_exit, run.target_exit) == (
        "succeeded",
        25,
        3,
        0,
        0,
    )
    assert handed_over.read_text() == ""  # no state on the first run

    second = dativo("run", job)
    assert second.returncode == 0, second.stderr
    assert json.loads(handed_over.read_text()) == bookmark(25)
    assert stored_state(home) == bookmark(50)


def test_full_refresh_does_not_pass_the_state(tmp_path, home, write_job, dativo):
    handed_over = tmp_path / "state-given.json"
    job = write_job(source={"records": 5, "state_copy": str(handed_over)})
    assert dativo("run", job).returncode == 0
    assert dativo("run", job, "--full-refresh").returncode == 0
    assert handed_over.read_text() == ""
    assert stored_state(home) == bookmark(5)


def test_message_form_states_are_accepted(home, write_job, dativo):
    job = write_job(source={"records": 12, "state_every": 5}, target={"echo": "message"})
    assert dativo("run", job).returncode == 0
    assert stored_state(home) == bookmark(12)


def test_tap_failure_keeps_states_the_target_confirmed(home, write_job, dativo):
    job = write_job(
        source={"records": 100, "state_every": 10, "fail_after": 35, "partial_line_on_fail": True}
    )
    result = dativo("run", job)
    assert result.returncode == 1
    assert "fake_tap.py failed with exit code 3" in result.stderr
    assert "simulated failure after 35 records" in result.stderr  # the tail of its stderr
    assert "dropped the incomplete last line" in result.stderr
    assert stored_state(home) == bookmark(30)
    run = last_run(home)
    assert (run.status, run.source_exit, run.target_exit) == ("failed", 3, 0)
    assert "fake_tap.py failed" in run.error


def test_target_failure_stops_the_tap_and_keeps_confirmed_states(home, write_job, dativo):
    job = write_job(source={"records": 100_000, "state_every": 1000}, target={"fail_after": 2500})
    result = dativo("run", job)
    assert result.returncode == 1
    assert "fake_target.py failed with exit code 4" in result.stderr
    assert "simulated failure at record 2501" in result.stderr
    assert stored_state(home) == bookmark(2000)
    assert last_run(home).target_exit == 4


def test_target_dying_while_the_tap_is_idle_does_not_hang(home, write_job, dativo):
    job = write_job(
        source={"records": 10, "sleep_after": 3, "sleep_seconds": 120}, target={"fail_after": 2}
    )
    result = dativo("run", job, timeout=30)
    assert result.returncode == 1
    assert "fake_target.py failed with exit code 4" in result.stderr


def test_target_quitting_early_with_exit_0_is_a_failure(home, write_job, dativo):
    job = write_job(source={"records": 200_000}, target={"exit_early_after": 10})
    result = dativo("run", job)
    assert result.returncode == 1
    assert "fake_target.py exited before reading the whole stream" in result.stderr
    assert stored_state(home) is None


def test_target_without_states_gets_the_taps_last_state(home, write_job, dativo):
    job = write_job(source={"records": 20, "state_every": 5}, target={"echo": "none"})
    result = dativo("run", job)
    assert result.returncode == 0, result.stderr
    assert stored_state(home) == bookmark(20)
    assert "saved fake_tap.py's last STATE" in result.stderr


def test_target_without_states_saves_nothing_when_the_tap_fails(home, write_job, dativo):
    job = write_job(
        source={"records": 20, "state_every": 5, "fail_after": 12}, target={"echo": "none"}
    )
    assert dativo("run", job).returncode == 1
    assert stored_state(home) is None


def test_empty_final_states_never_overwrite(home, write_job, dativo):
    first = write_job(source={"records": 5})
    assert dativo("run", first).returncode == 0
    for empty in ({}, None, ""):
        job = write_job(source={"records": 5, "final_state": empty})
        result = dativo("run", job, "--full-refresh")
        assert result.returncode == 0, result.stderr
        assert stored_state(home) == bookmark(5)
    no_confirmation = write_job(source={"records": 5, "final_state": {}}, target={"echo": "none"})
    assert dativo("run", no_confirmation, "--full-refresh").returncode == 0
    assert stored_state(home) == bookmark(5)


def test_non_json_and_non_state_target_output_is_a_warning(home, write_job, dativo):
    job = write_job(
        source={"records": 5}, target={"garbage": True, "extra_lines": [[1, 2], {"type": "RECORD"}]}
    )
    result = dativo("run", job)
    assert result.returncode == 0, result.stderr
    assert "is not JSON; ignored: this is not JSON" in result.stderr
    assert "is a JSON list, not a state object" in result.stderr
    assert "is a Singer RECORD message, not a STATE" in result.stderr
    assert stored_state(home) == bookmark(5)


def test_a_50_mb_record_passes_intact(tmp_path, home, write_job, dativo):
    received = tmp_path / "received.jsonl"
    size = 50 * 1024 * 1024
    job = write_job(
        source={"records": 3, "big_record_bytes": size}, target={"received": str(received)}
    )
    result = dativo("run", job, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = received.read_bytes().splitlines()
    big = json.loads(lines[1])
    assert big["record"]["payload"] == "x" * size
    expected = json.dumps(
        {"type": "RECORD", "stream": "items", "record": {"id": 1, "payload": "x" * size}},
        separators=(",", ":"),
    )
    assert hashlib.sha256(lines[1]).digest() == hashlib.sha256(expected.encode()).digest()
    assert last_run(home).records == 3
    assert last_run(home).orchestrator_peak_rss_bytes < 80 * 1024 * 1024


def test_spaced_json_records_are_counted(home, write_job, dativo):
    job = write_job(
        source={"records": 42, "spaced": True, "state_every": 7}, target={"echo": "none"}
    )
    assert dativo("run", job).returncode == 0
    assert last_run(home).records == 42
    assert stored_state(home) == bookmark(42)


def test_executable_that_cannot_start_fails_clearly(tmp_path, write_job, dativo):
    program = tmp_path / "broken-tap"
    program.write_text("#!/nonexistent/interpreter\n")
    program.chmod(0o755)
    job = write_job()
    job.write_text(
        job.read_text().replace(str(Path(__file__).parent / "programs/fake_tap.py"), str(program))
    )
    result = dativo("run", job)
    assert result.returncode == 1
    assert "cannot start broken-tap" in result.stderr
    assert not [
        p
        for p in psutil.Process().children(recursive=True)
        if "fake_target" in " ".join(p.cmdline())
    ]


def test_resource_figures_of_both_connectors_are_recorded(home, write_job, dativo):
    job = write_job(source={"records": 50_000, "big_record_bytes": 30 * 1024 * 1024})
    result = dativo("run", job)
    assert result.returncode == 0, result.stderr
    resources = last_run(home).resources
    assert resources["source"]["connector"] == "fake_tap.py"
    # the tap builds a 30 MB string and its JSON: its peak is well above the target's baseline
    assert resources["source"]["peak_rss_bytes"] > 60 * 1024 * 1024
    assert resources["target"]["peak_rss_bytes"] > 5 * 1024 * 1024
    assert resources["source"]["cpu_s"] > 0 and resources["target"]["cpu_s"] > 0
    assert "fake_tap.py " in result.stderr and " peak, " in result.stderr
    table = dativo("runs").stdout.splitlines()
    assert "PEAK MEM SRC/TGT" in table[0] and " MB/" in table[1]
