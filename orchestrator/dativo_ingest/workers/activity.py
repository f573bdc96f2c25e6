"""The one activity: exactly ``dativo run`` on this worker, heartbeating its progress."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from datetime import timedelta
from pathlib import Path

import orjson
from temporalio import activity
from temporalio.exceptions import ApplicationError

from dativo_ingest.exceptions import ConfigurationError, JobLockedError
from dativo_ingest.pipeline.progress import PROGRESS_FILE_VARIABLE
from dativo_ingest.pipeline.signals import DEFAULT_GRACE_SECONDS
from dativo_ingest.pipeline.transient import NEVER_RETRIED_EXIT_CODES
from dativo_ingest.pipeline.workdir import private_workdir, write_private
from dativo_ingest.processes import pid_exists
from dativo_ingest.runtime.process import die_with_parent
from dativo_ingest.state import dativo_home, open_store
from dativo_ingest.workers.submission import ACTIVITY_NAME, JobSubmission, RunSummary

_TAIL_LINES = 30
_SUBMITTED = ".dativo-submitted-"
_FINAL_CONNECTOR_EXITS = set(NEVER_RETRIED_EXIT_CODES)  # configuration, authentication
_KILL_AFTER_SECONDS = DEFAULT_GRACE_SECONDS + 15


class JobRunner:
    """Runs submitted jobs as ``dativo run`` subprocesses of this worker."""

    def __init__(self, worker: str, project: Path) -> None:
        self.worker = worker
        self.project = project

    @activity.defn(name=ACTIVITY_NAME)
    async def run(self, job: JobSubmission) -> RunSummary:
        """Run ``job`` once; a failure becomes an ApplicationError typed by what can be done."""
        info = activity.info()
        started = time.monotonic()
        with _job_file(self.project, job) as (file, progress):
            env = {
                **os.environ,
                "DATIVO_WORKER": self.worker,
                PROGRESS_FILE_VARIABLE: str(progress),
            }
            argv = [sys.executable, "-m", "dativo_ingest", "run", str(file)]
            argv += ["--attempt", str(info.attempt)]  # Temporal retries, dativo run does not
            if job.full_refresh:
                argv.append("--full-refresh")
            parent = os.getpid()
            child = await asyncio.create_subprocess_exec(
                *argv,
                cwd=self.project,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                preexec_fn=lambda: die_with_parent(parent, signal.SIGTERM),
            )
            tail: deque[str] = deque(maxlen=_TAIL_LINES)
            reader = asyncio.create_task(_relay_stderr(child, tail, job.state_id))
            try:
                await _wait_heartbeating(child, progress, info.heartbeat_timeout)
            except asyncio.CancelledError:
                await _stop(child)
                raise
            finally:
                await asyncio.wait_for(reader, _KILL_AFTER_SECONDS)
            figures = _progress(progress)
        code = child.returncode or 0
        if code != 0:
            exits = await asyncio.to_thread(_connector_exits, job.state_id, self.worker)
            raise _failure(code, tail, job, exits)
        return RunSummary(
            job.state_id,
            self.worker,
            info.attempt,
            round(time.monotonic() - started, 3),
            figures.get("records", 0),
            figures.get("bytes", 0),
        )


async def _wait_heartbeating(
    child: asyncio.subprocess.Process, progress: Path, timeout: timedelta | None
) -> None:
    """Wait for ``dativo run`` to exit, heartbeating its progress three times per heartbeat
    timeout (at most every 5 s)."""
    interval = min(5.0, timeout.total_seconds() / 3) if timeout else 5.0
    while True:
        activity.heartbeat(_progress(progress))
        try:
            await asyncio.wait_for(asyncio.shield(child.wait()), interval)
            return
        except TimeoutError:
            continue


def _progress(path: Path) -> dict[str, int]:
    try:
        progress: dict[str, int] = orjson.loads(path.read_bytes())
        return progress
    except (OSError, orjson.JSONDecodeError):
        return {}


async def _relay_stderr(child: asyncio.subprocess.Process, tail: deque[str], state_id: str) -> None:
    """The run's log goes to the worker's stderr, each line tagged with the job."""
    assert child.stderr is not None
    async for raw in child.stderr:
        line = raw.decode(errors="replace").rstrip("\n")
        tail.append(line)
        sys.stderr.write(f"[{state_id}] {line}\n")


async def _stop(child: asyncio.subprocess.Process) -> None:
    """Cancelled: SIGTERM ``dativo run`` (it stops both connectors with grace), then SIGKILL."""
    if child.returncode is not None:
        return
    child.terminate()
    try:
        await asyncio.wait_for(child.wait(), _KILL_AFTER_SECONDS)
    except TimeoutError:
        child.kill()
        await child.wait()


def _connector_exits(state_id: str, worker: str) -> set[int]:
    """Exit codes of both connectors in this worker's latest run of the job (the store)."""
    store = open_store()
    try:
        runs = [r for r in store.list_runs(10, state_id) if r.worker == worker]
    finally:
        store.close()
    return (
        {c for c in (runs[0].source_exit, runs[0].target_exit) if c is not None} if runs else set()
    )


def _failure(
    code: int, tail: deque[str], job: JobSubmission, connector_exits: AbstractSet[int] = frozenset()
) -> ApplicationError:
    """Exit codes of ``dativo run`` -> what Temporal may do: 2 (configuration) is final,
    3 (locked) and signals (the worker stopping) are retried, 1 (a connector failed) is
    retried only when the job has ``retry:`` and no connector reported a configuration or
    authentication error (the connector kit's exit codes 2 and 4)."""
    log = "\n".join(tail)
    if code == 2:
        kind, final = ConfigurationError.__name__, True
    elif code == 3:
        kind, final = JobLockedError.__name__, False
    elif code < 0 or code >= 128:
        kind, final = "RunInterrupted", False
    elif connector_exits & _FINAL_CONNECTOR_EXITS:
        kind, final = "ConnectorConfigurationError", True
    else:
        kind, final = "RunFailed", job.retry is None
    return ApplicationError(
        f"dativo run {job.state_id} exited {code}:\n{log}", type=kind, non_retryable=final
    )


@contextlib.contextmanager
def _job_file(project: Path, job: JobSubmission) -> Iterator[tuple[Path, Path]]:
    """Write the submitted job file (0600) where it lies in the project, so its relative
    paths resolve as on the submitter's machine (a private folder when that folder is
    absent). Yields the file and a progress file path; removes both afterwards."""
    with private_workdir(dativo_home().resolve()) as scratch:
        wanted = project / job.path
        folder = wanted.parent if wanted.parent.is_dir() else scratch
        _remove_orphans(folder)
        file = folder / f"{_SUBMITTED}{scratch.name}-{Path(job.path).name}"
        write_private(file, job.contents.encode())
        try:
            yield file, scratch / "progress.json"
        finally:
            file.unlink(missing_ok=True)


def _remove_orphans(folder: Path) -> None:
    """Job files left by a worker that was killed: their names carry its pid."""
    for left in folder.glob(f"{_SUBMITTED}run-*"):
        owner = left.name.removeprefix(_SUBMITTED).split("-")[1]
        if owner.isdigit() and not pid_exists(int(owner)):
            left.unlink(missing_ok=True)
