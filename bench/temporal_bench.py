"""Temporal benchmark: what going through `dativo submit` + `dativo worker` costs per job.

Two measurements, both against plain `dativo run` of the same small jobs (bench/programs'
replay tap into the counting sink, 1,000 records each), on the same machine, in one run:

- latency: one job at a time on an idle worker, `dativo submit --wait JOB` against
  `dativo run JOB`, alternating, medians: the per-job overhead of the queue, the workflow and
  the activity (both arms include one Python start of the `dativo` command);
- throughput: N jobs (default 100) run one after another with `dativo run`, against the same
  N submitted at once to 3 workers with one slot each, wall time to the last completion.

Starts its own Temporal dev server (`dativo server`) and workers; state in SQLite under a
temporary DATIVO_HOME (`--state-url` for a shared Postgres store).

Usage: .venv/bin/python bench/temporal_bench.py [--jobs 100] [--rounds 7] [--quick]
See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROGRAMS = BENCH_DIR / "programs"
DATIVO = str(Path(sys.executable).with_name("dativo"))
TEMPORAL = str(Path(sys.executable).with_name("temporal"))
RECORDS = 1000
WORKERS = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100, help="jobs in the throughput arm")
    parser.add_argument("--rounds", type=int, default=7, help="rounds of the latency arm")
    parser.add_argument("--quick", action="store_true", help="20 jobs, 3 rounds")
    parser.add_argument("--state-url", help="a Postgres state store instead of SQLite")
    args = parser.parse_args()
    if args.quick:
        args.jobs, args.rounds = 20, 3
    with tempfile.TemporaryDirectory(prefix="dativo-temporal-bench-") as scratch:
        work = Path(scratch)
        env = {**os.environ, "DATIVO_HOME": str(work / "home")}
        if args.state_url:
            env["DATIVO_STATE_URL"] = args.state_url
        jobs = _write_jobs(work, args.jobs)
        port = _free_port()
        queue = ["--temporal", f"127.0.0.1:{port}", "--task-queue", "bench"]
        server = subprocess.Popen(
            [DATIVO, "server", "--headless", "--port", str(port)],
            env={**env, "DATIVO_HOME": str(work / "temporal")},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        workers: list[subprocess.Popen[bytes]] = []
        try:
            _wait_healthy(port)
            workers = [_worker(work, env, queue, f"b{i}") for i in range(WORKERS)]
            latency = _latency(work, env, queue, jobs[0], args.rounds)
            throughput = _throughput(work, env, queue, jobs)
        finally:
            for process in [*workers, server]:
                process.terminate()
            for process in [*workers, server]:
                process.wait(60)
    report = {"jobs": args.jobs, "records_per_job": RECORDS, **latency, **throughput}
    report["load_average"] = os.getloadavg()
    print(json.dumps(report, indent=2))


def _write_jobs(work: Path, count: int) -> list[Path]:
    data = work / "events.singer"
    subprocess.run(
        [sys.executable, PROGRAMS / "gen_stream.py", "--records", str(RECORDS), "--out", data],
        check=True,
    )
    jobs = []
    for i in range(count):
        job = work / f"job{i:03d}.yaml"
        job.write_text(
            json.dumps(
                {
                    "tenant_id": "bench",
                    "name": f"job{i:03d}",
                    "source": {
                        "executable": str(PROGRAMS / "replay_tap.py"),
                        "config": {"path": str(data)},
                    },
                    "target": {"executable": str(PROGRAMS / "count_sink.py"), "config": {}},
                }
            )
        )
        jobs.append(job)
    return jobs


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_healthy(port: int) -> None:
    health = [TEMPORAL, "operator", "cluster", "health", "--address", f"127.0.0.1:{port}"]
    deadline = time.monotonic() + 60
    while subprocess.run(health, capture_output=True).returncode != 0:
        if time.monotonic() > deadline:
            raise SystemExit("the Temporal dev server did not start")
        time.sleep(0.3)


def _worker(work: Path, env: dict[str, str], queue: list[str], name: str) -> subprocess.Popen:
    log = open(work / f"{name}.log", "wb")  # noqa: SIM115 - lives as long as the worker
    return subprocess.Popen(
        [DATIVO, "worker", *queue, "--slots", "1", "--name", name],
        cwd=work,
        env=env,
        stdout=log,
        stderr=log,
    )


def _timed(argv: list[str], work: Path, env: dict[str, str]) -> float:
    return _timed_output(argv, work, env)[0]


def _timed_output(argv: list[str], work: Path, env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=work, env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - started, done.stdout


def _latency(
    work: Path, env: dict[str, str], queue: list[str], job: Path, rounds: int
) -> dict[str, float]:
    """One job at a time, the two arms alternating (after one warm-up of each). The
    activity's own duration (from `submit --wait`) splits the queued arm in two: the run on
    the worker, and the rest (client start, queue, workflow)."""
    direct = [DATIVO, "--log-level", "WARNING", "run", str(job), "--full-refresh"]
    queued = [DATIVO, "submit", "--wait", *queue, str(job), "--full-refresh"]
    client = [DATIVO, "schedule", "list", *queue]  # the client's start: import, connect, 1 RPC
    _timed(direct, work, env), _timed(queued, work, env)
    runs, submits, activities, clients = [], [], [], []
    for i in range(rounds):
        arms = ("run", "submit", "client")[:: 1 if i % 2 == 0 else -1]
        for arm in arms:
            if arm == "run":
                runs.append(_timed(direct, work, env))
            elif arm == "client":
                clients.append(_timed(client, work, env))
            else:
                seconds, out = _timed_output(queued, work, env)
                submits.append(seconds)
                activities.append(float(re.search(r" in ([0-9.]+)s", out).group(1)))
    figures = {
        "latency_run_s": statistics.median(runs),
        "latency_submit_wait_s": statistics.median(submits),
        "activity_s": statistics.median(activities),
        "client_start_s": statistics.median(clients),
    }
    figures["overhead_per_job_s"] = figures["latency_submit_wait_s"] - figures["latency_run_s"]
    figures["queue_and_workflow_s"] = (
        figures["latency_submit_wait_s"] - figures["activity_s"] - figures["client_start_s"]
    )
    print(", ".join(f"{k} {v:.2f}" for k, v in figures.items()), file=sys.stderr)
    return {k: round(v, 3) for k, v in figures.items()}


def _throughput(
    work: Path, env: dict[str, str], queue: list[str], jobs: list[Path]
) -> dict[str, float]:
    started = time.perf_counter()
    for job in jobs:
        subprocess.run(
            [DATIVO, "--log-level", "WARNING", "run", str(job), "--full-refresh"],
            cwd=work,
            env=env,
            check=True,
            capture_output=True,
        )
    sequential = time.perf_counter() - started
    distributed = _timed(
        [DATIVO, "submit", "--wait", *queue, "--full-refresh", *map(str, jobs)], work, env
    )
    print(
        f"throughput: {len(jobs)} jobs one after another {sequential:.1f}s,"
        f" on {WORKERS} workers {distributed:.1f}s",
        file=sys.stderr,
    )
    return {
        "sequential_s": round(sequential, 2),
        "workers": WORKERS,
        "distributed_s": round(distributed, 2),
        "speedup": round(sequential / distributed, 2),
    }


if __name__ == "__main__":
    main()
