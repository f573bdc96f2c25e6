"""Exactly once across runs, end to end: dativo (alone, or with its connectors) killed with
SIGKILL after target-iceberg committed a batch but before dativo stored the STATE confirming it
(another writer holds the state store meanwhile); the rerun resumes from the older stored state
(or from the start) and the table ends with every record once."""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import subprocess
from pathlib import Path

import psutil
import pytest
import yaml
from pyiceberg.catalog import load_catalog
from pyiceberg.exceptions import NoSuchTableError

from dativo_ingest.state import open_store
from tests.conftest import DATIVO, FAKE_TAP
from tests.test_run_signals import wait_for

RECORDS = 3000


def write_job(tmp_path: Path, source: dict, target: dict) -> Path:
    """The job ``acme/job``: the fake tap into target-iceberg."""
    job = {
        "tenant_id": "acme",
        "name": "job",
        "source": {"executable": FAKE_TAP, "config": source},
        "target": {"connector": "target-iceberg", "config": target},
    }
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(job))
    return path


def command_of(process: psutil.Process) -> str:
    """The process's command line ("" once it has ended)."""
    try:
        return " ".join(process.cmdline())
    except psutil.Error:
        return ""


def stored(home: Path) -> object:
    store = open_store(home)
    try:
        state = store.get_state("acme/job")
        return None if state is None else state.value
    finally:
        store.close()


def started(home: Path) -> bool:
    """Whether dativo recorded the run (it holds the job's lock)."""
    if not (home / "dativo.db").exists():
        return False
    store = open_store(home)
    try:
        return bool(store.list_runs(1))
    finally:
        store.close()


def committed_ids(warehouse: Path) -> list[int]:
    """The ids in the table (none before it exists)."""
    if not (warehouse / "catalog.db").exists():
        return []
    catalog = load_catalog("dativo", type="sql", uri=f"sqlite:///{warehouse / 'catalog.db'}")
    try:
        table = catalog.load_table(("default", "items"))
    except NoSuchTableError:
        return []
    return table.scan().to_arrow().column("id").to_pylist()


@pytest.mark.parametrize(
    ("killed", "stored_before"),
    [("dativo", None), ("dativo", 500), ("everything", 500)],
    ids=["dativo-first-run", "dativo-later-state", "dativo-and-connectors"],
)
def test_killed_between_commit_and_state_store_then_rerun_lands_every_record_once(
    tmp_path, home, env, killed, stored_before
):
    warehouse = tmp_path / "warehouse"
    target = {"warehouse": str(warehouse), "batch_size_rows": 500}
    # the tap pauses after 700 records: time to lock the state store before the next commit
    source = {"until": RECORDS, "state_every": 100, "sleep_after": 700, "sleep_seconds": 8}
    run = subprocess.Popen(
        [DATIVO, "run", str(write_job(tmp_path, source, target))],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        if stored_before is None:
            wait_for(lambda: started(home), 60)
        else:
            wait_for(lambda: stored(home) == {"bookmarks": {"items": {"last_id": 500}}}, 60)
        # another writer holds the state store: dativo's next state save waits for it
        blocker = sqlite3.connect(home / "dativo.db", isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        wait_for(lambda: len(committed_ids(warehouse)) >= 1000, 60, 0.2)
        children = psutil.Process(run.pid).children(recursive=True)
        taps = [child for child in children if "fake_tap" in command_of(child)]
        if killed == "dativo":
            run.send_signal(signal.SIGKILL)  # dies between the commit and the state store
            run.communicate(timeout=30)
            for tap in taps:  # it sleeps on; the target commits what it read
                with contextlib.suppress(psutil.NoSuchProcess):
                    tap.kill()
        else:  # the whole machine goes: the target commits nothing more either
            run.send_signal(signal.SIGKILL)
            for process in children:
                with contextlib.suppress(psutil.NoSuchProcess):
                    process.kill()
        blocker.execute("ROLLBACK")
        blocker.close()
        run.communicate(timeout=120)
        psutil.wait_procs(children, timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode != 0
    first = committed_ids(warehouse)
    assert sorted(first) == list(range(1, len(first) + 1))
    state = stored(home)
    behind = 0 if state is None else state["bookmarks"]["items"]["last_id"]
    assert behind == 0 if stored_before is None else behind >= stored_before
    assert len(first) > behind  # the table holds records the stored state does not cover

    rerun_source = {"until": RECORDS, "state_every": 100}
    rerun = subprocess.run(
        [DATIVO, "run", str(write_job(tmp_path, rerun_source, target))],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr
    run_log = max((home / "logs" / "acme" / "job").glob("*.log")).read_text()
    assert f"{len(first) - behind} skipped as already committed" in run_log
    assert sorted(committed_ids(warehouse)) == list(range(1, RECORDS + 1))
    assert stored(home) == {"bookmarks": {"items": {"last_id": RECORDS}}}


def test_full_refresh_is_a_new_load_and_a_completed_run_is_resumed_without_skips(
    tmp_path, home, env
):
    """After a run that ended well, the next one skips nothing; --full-refresh is a new load
    (``refresh:<run id>``), so with append it lands every record again."""
    warehouse = tmp_path / "warehouse"
    target = {"warehouse": str(warehouse)}
    job = write_job(tmp_path, {"until": 300, "state_every": 100}, target)

    def dativo(*extra: str) -> None:
        result = subprocess.run(
            [DATIVO, "run", str(job), *extra], env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr

    dativo()
    dativo()  # resumes from last_id 300: the tap sends nothing new
    assert sorted(committed_ids(warehouse)) == list(range(1, 301))
    dativo("--full-refresh")
    assert sorted(committed_ids(warehouse)) == sorted(list(range(1, 301)) * 2)
    run_logs = [path.read_text() for path in (home / "logs" / "acme" / "job").glob("*.log")]
    assert not [log for log in run_logs if "skipped as already committed" in log]
