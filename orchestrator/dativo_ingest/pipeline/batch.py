"""Several jobs at once: each ``dativo run JOB`` in its own process, at most N at a time.

A process per job keeps each run's signals, memory and failures its own; the state store
takes their writes concurrently. SIGINT/SIGTERM are passed on to every running job, which
each stop within their grace period; jobs not yet started are not started.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from dativo_ingest.logs import get_logger
from dativo_ingest.pipeline.signals import FORWARDED

log = get_logger(__name__)
_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class JobOutcome:
    """How one job of the batch ended: its exit code (None: never started)."""

    job: Path
    exit_code: int | None
    duration_s: float


def run_jobs(
    jobs: Sequence[Path], parallel: int, run_args: Sequence[str], dativo_args: Sequence[str] = ()
) -> list[JobOutcome]:
    """Run every job with ``dativo *dativo_args run JOB *run_args``, ``parallel`` at a time."""
    pending = list(jobs)
    running: dict[subprocess.Popen[bytes], tuple[Path, float]] = {}
    outcomes: dict[Path, JobOutcome] = {}
    stopping: list[int] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)
        for process in running:
            process.send_signal(signum)

    previous = {signum: signal.signal(signum, forward) for signum in FORWARDED}
    try:
        while pending or running:
            while pending and len(running) < parallel and not stopping:
                job = pending.pop(0)
                command = [sys.executable, "-m", "dativo_ingest", *dativo_args, "run", str(job)]
                command += run_args
                running[subprocess.Popen(command)] = (job, time.monotonic())
            if stopping:
                pending.clear()
            for process in [p for p in running if p.poll() is not None]:
                job, began = running.pop(process)
                outcomes[job] = JobOutcome(job, process.returncode, time.monotonic() - began)
            time.sleep(_POLL_SECONDS)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return [outcomes.get(job, JobOutcome(job, None, 0.0)) for job in jobs]
