"""Signals: SIGTERM/SIGINT keep confirmed states; SIGKILL of dativo leaves no process behind."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from dativo_ingest.state import open_store
from tests.conftest import DATIVO


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def stored_value(home: Path):
    store = open_store(home)
    try:
        stored = store.get_state("acme/job")
        return None if stored is None else stored.value
    finally:
        store.close()


def start(job: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [DATIVO, "run", str(job), "--grace-seconds", "3"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def children_of(process: subprocess.Popen[str]) -> list[psutil.Process]:
    return psutil.Process(process.pid).children(recursive=True)


@pytest.mark.parametrize(("signum", "exit_code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_stops_both_sides_and_keeps_confirmed_state(home, env, write_job, signum, exit_code):
    job = write_job(
        source={"records": 1000, "state_every": 10, "sleep_after": 55, "sleep_seconds": 120}
    )
    run = start(job, env)
    wait_for(lambda: stored_value(home) == {"bookmarks": {"items": {"last_id": 50}}})
    children = children_of(run)
    assert len(children) == 2
    run.send_signal(signum)
    _, stderr = run.communicate(timeout=30)
    assert run.returncode == exit_code, stderr
    assert "confirmed states were kept" in stderr
    assert stored_value(home) == {"bookmarks": {"items": {"last_id": 50}}}
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    store = open_store(home)
    assert store.list_runs(1)[0].status == "interrupted"
    store.close()


def test_target_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path, env, write_job):
    ready = tmp_path / "target-ready"
    job = write_job(
        source={"records": 100, "sleep_after": 5, "sleep_seconds": 120},
        target={"ignore_sigterm": True, "linger_seconds": 120, "ready_file": str(ready)},
    )
    run = start(job, env)
    wait_for(ready.exists)
    began = time.monotonic()
    run.send_signal(signal.SIGTERM)
    run.communicate(timeout=30)
    assert run.returncode == 143
    assert 2.5 < time.monotonic() - began < 15


def test_sigkill_of_dativo_leaves_a_confirmed_state_and_no_process(tmp_path, home, env, write_job):
    handed_over = tmp_path / "handed-over.json"
    job = write_job(
        source={"records": 5_000_000, "state_every": 10_000, "state_copy": str(handed_over)}
    )
    run = start(job, env)
    wait_for(lambda: stored_value(home) is not None, timeout=30)
    children = children_of(run)
    assert len(children) == 2
    time.sleep(0.3)
    run.kill()
    run.communicate(timeout=10)
    for child in children:
        with pytest.raises(psutil.NoSuchProcess):
            wait_for(lambda c=child: not c.is_running(), timeout=10)
            child.status()
    killed_at = stored_value(home)
    last_id = killed_at["bookmarks"]["items"]["last_id"]
    assert last_id % 10_000 == 0 and 0 < last_id < 5_000_000  # a state the target emitted

    rerun = write_job(source={"records": 10, "state_copy": str(handed_over)})
    result = subprocess.run(
        [DATIVO, "run", str(rerun)], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "marked abandoned the runs of a dativo that died" in result.stderr
    assert json.loads(handed_over.read_text()) == killed_at
    store = open_store(home)
    statuses = [r.status for r in store.list_runs(2)]
    store.close()
    assert statuses == ["succeeded", "abandoned"]
    assert not list((home / "tmp").iterdir())  # the killed run's private folder is gone
