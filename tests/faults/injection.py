"""One injection: add a chunk of source data, run the pipeline with a fault at a random
moment, check the stored state against the data, rerun until a run succeeds, and compare the
destination with the source."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from dativo_ingest.state import open_store
from tests.conftest import DATIVO
from tests.faults.pipelines import Pipeline, env_for

GRACE = "1"
MAX_RERUNS = 5
_RUN_SECONDS = 120


@dataclass
class Outcome:
    """What one injection did and what the checks found."""

    pipeline: str
    fault: str
    injected: bool
    runs: int  # run records the fault run and its recovery wrote (attempts included)
    missing: list[int]
    duplicates: int  # ids committed again by this injection's runs
    early_duplicates: list[int]  # ... of which below the state saved at the fault: a bug
    state_ahead: list[int]  # ids at or below the saved state, absent at the fault
    recovery_s: float
    log: Path  # the faulted run's stderr
    note: str = ""

    @property
    def ok(self) -> bool:
        return not (self.missing or self.early_duplicates or self.state_ahead)


Fault = Callable[[subprocess.Popen[bytes], Pipeline, random.Random], bool]


def inject(
    pipeline: Pipeline,
    fault_name: str,
    fault: Fault,
    rows: int,
    rng: random.Random,
    env: dict[str, str],
) -> Outcome:
    pipeline.add_rows(rows)
    before = pipeline.landed()
    saved_before = pipeline.bookmark()
    runs_before = pipeline.run_count()
    job = pipeline.job_file()
    log = pipeline.folder / f"run-{runs_before:03d}-{fault_name}.log"
    with open(log, "wb") as stderr:
        run = subprocess.Popen(
            [DATIVO, "-v", "run", str(job), "--grace-seconds", GRACE],
            env=env_for(pipeline, env),
            cwd=pipeline.folder,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            injected = fault(run, pipeline, rng)
            run.wait(_RUN_SECONDS)
        finally:
            run.kill()
            run.wait()
    saved = pipeline.bookmark()
    at_fault = pipeline.landed()
    state_ahead = [i for i in range(1, saved + 1) if not at_fault[i]]
    began = time.monotonic()
    reruns = 0
    if pipeline.after_fault is not None:
        pipeline.after_fault()
    while pipeline.last_status() != "succeeded" and reruns < MAX_RERUNS:
        reruns += 1
        with open(pipeline.folder / f"rerun-{runs_before:03d}-{reruns}.log", "wb") as stderr:
            subprocess.run(
                [DATIVO, "-v", "run", str(job), "--grace-seconds", GRACE],
                env=env_for(pipeline, env),
                cwd=pipeline.folder,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                timeout=_RUN_SECONDS,
                check=False,
            )
    recovery = time.monotonic() - began if reruns else 0.0
    after = pipeline.landed()
    resent_by_fault_run = [i for i, n in at_fault.items() if n > max(before[i], 1)]
    resent_by_reruns = [i for i, n in after.items() if n > max(at_fault[i], 1)]
    again = [i for i, n in after.items() if n > max(before[i], 1)]
    return Outcome(
        pipeline.name,
        fault_name,
        injected,
        pipeline.run_count() - runs_before,
        [i for i in range(1, pipeline.total + 1) if not after[i]],
        sum(after[i] - max(before[i], 1) for i in again),
        sorted(
            {i for i in resent_by_fault_run if i < saved_before}
            | {i for i in resent_by_reruns if i < saved}
        ),
        state_ahead,
        recovery,
        log,
        "" if pipeline.last_status() == "succeeded" else f"no success after {reruns} reruns: {log}",
    )


def _connector(
    run: subprocess.Popen[bytes], marker: str, timeout: float = 30.0
) -> psutil.Process | None:
    """dativo's child process whose command line mentions ``marker``, once it runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and run.poll() is None:
        try:
            for child in psutil.Process(run.pid).children(recursive=True):
                if any(marker in part for part in child.cmdline()):
                    return child
        except psutil.Error:
            pass
        time.sleep(0.02)
    return None


def _at_random_moment(run: subprocess.Popen[bytes], pipeline: Pipeline, rng: random.Random):
    """Both connectors running, then a random pause within the streaming window: the tap
    and the target, or None if the run ended first."""
    tap = _connector(run, pipeline.markers[0])
    target = _connector(run, pipeline.markers[1])
    if tap is None or target is None:
        return None
    time.sleep(rng.uniform(0.05, 0.8))
    if run.poll() is not None:
        return None
    return tap, target


def _signal_side(side: int, signum: int) -> Fault:
    def fault(run: subprocess.Popen[bytes], pipeline: Pipeline, rng: random.Random) -> bool:
        found = _at_random_moment(run, pipeline, rng)
        if found is None:
            return False
        try:
            found[side].send_signal(signum)
        except psutil.NoSuchProcess:
            return False
        return True

    return fault


def kill_dativo(run: subprocess.Popen[bytes], pipeline: Pipeline, rng: random.Random) -> bool:
    if _at_random_moment(run, pipeline, rng) is None:
        return False
    run.kill()
    return True


def no_fault(run: subprocess.Popen[bytes], pipeline: Pipeline, rng: random.Random) -> bool:
    """For faults built into the pipeline itself (a flooding connector, a full disk)."""
    return True


def out_of_memory(run: subprocess.Popen[bytes], pipeline: Pipeline, rng: random.Random) -> bool:
    """The pipeline itself brings the fault (OomPipeline); it hit if an attempt of the run was
    reported out of memory."""
    run.wait(_RUN_SECONDS)
    store = open_store(pipeline.home)
    try:
        errors = [r.error or "" for r in store.list_runs(5, pipeline.state_id)]
    finally:
        store.close()
    return any("out of memory" in error for error in errors)


def restart_server(restart: Callable[[], None]) -> Fault:
    def fault(run: subprocess.Popen[bytes], pipeline: Pipeline, rng: random.Random) -> bool:
        if _at_random_moment(run, pipeline, rng) is None:
            return False
        restart()
        return True

    return fault


FAULTS: dict[str, Fault] = {
    "SIGKILL tap": _signal_side(0, signal.SIGKILL),
    "SIGKILL target": _signal_side(1, signal.SIGKILL),
    "SIGKILL dativo": kill_dativo,
    "tap stops writing": _signal_side(0, signal.SIGSTOP),
    "target stops reading": _signal_side(1, signal.SIGSTOP),
}


def table(outcomes: list[Outcome]) -> str:
    """The results table of docs/reliability.md: per fault, over the injections that hit."""
    rows: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        if outcome.injected:
            rows.setdefault(f"{outcome.fault} ({outcome.pipeline.rsplit('-', 1)[0]})", []).append(
                outcome
            )
    lines = [
        "| fault (pipeline) | injections | runs | missing | max duplicates | max recovery |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, hit in sorted(rows.items()):
        lines.append(
            f"| {name} | {len(hit)} | {sum(o.runs for o in hit)} | "
            f"{sum(len(o.missing) for o in hit)} | {max(o.duplicates for o in hit)} | "
            f"{max(o.recovery_s for o in hit):.1f}s |"
        )
    return "\n".join(lines)


def describe(outcome: Outcome) -> str:
    counts = Counter(
        {
            "missing": len(outcome.missing),
            "early duplicates": len(outcome.early_duplicates),
            "state ahead": len(outcome.state_ahead),
        }
    )
    found = ", ".join(f"{k} {v} (first {_first(outcome, k)})" for k, v in counts.items() if v)
    return f"{outcome.pipeline}: {outcome.fault}: {found or 'ok'} {outcome.note}".strip()


def _first(outcome: Outcome, kind: str) -> list[int]:
    ids = {
        "missing": outcome.missing,
        "early duplicates": outcome.early_duplicates,
        "state ahead": outcome.state_ahead,
    }[kind]
    return ids[:5]
