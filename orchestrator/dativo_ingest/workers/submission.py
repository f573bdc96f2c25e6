"""What a submitted job carries through Temporal: the job file's text, never its secrets."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from dativo_ingest.config import JobConfig
from dativo_ingest.exceptions import JobFileError
from dativo_ingest.schema import SchemaError, dump, validate

DEFAULT_ADDRESS = "127.0.0.1:7233"
DEFAULT_NAMESPACE = "default"
DEFAULT_TASK_QUEUE = "dativo"
DEFAULT_HEARTBEAT_SECONDS = 30.0
WORKFLOW_NAME = "dativo-job"
ACTIVITY_NAME = "dativo-run"


@dataclass
class JobSubmission:
    """One job to run on a worker.

    ``contents`` is the job file as written, with ``${VAR}`` unresolved: the worker resolves
    them from its own environment. ``path`` is where the file is, relative to the submitter's
    folder when it is inside it, so relative paths in it resolve the same way on a worker
    started in the same project.
    """

    state_id: str
    path: str
    contents: str
    full_refresh: bool = False
    retry: dict[str, float] | None = None
    heartbeat_seconds: float = DEFAULT_HEARTBEAT_SECONDS


@dataclass
class RunSummary:
    """What the activity returns for a run that succeeded."""

    state_id: str
    worker: str
    attempt: int
    duration_s: float
    records: int
    bytes: int


def read_submission(
    path: str | Path, full_refresh: bool = False, heartbeat_seconds: float | None = None
) -> JobSubmission:
    """Read and validate a job file for submission, without resolving its variables."""
    file = Path(path)
    try:
        contents = file.read_text(encoding="utf-8")
        raw = yaml.safe_load(contents)
    except OSError as exc:
        raise JobFileError(str(file), [("", f"cannot read the file: {exc.strerror}")]) from None
    except yaml.YAMLError as exc:
        raise JobFileError(str(file), [("", f"invalid YAML: {exc}")]) from None
    if not isinstance(raw, dict):
        raise JobFileError(str(file), [("", "the top level must be a mapping of keys")])
    try:
        spec = validate(JobConfig, raw)
    except SchemaError as exc:
        problems = [(".".join(map(str, e["loc"])), str(e["msg"])) for e in exc.errors()]
        raise JobFileError(str(file), problems) from None
    return JobSubmission(
        spec.state_id,
        _relative(file),
        contents,
        full_refresh,
        retry_settings(spec),
        heartbeat_seconds or DEFAULT_HEARTBEAT_SECONDS,
    )


def retry_settings(spec: JobConfig) -> dict[str, float] | None:
    """The job's ``retry:`` as plain numbers (None when it has none): ``attempts``,
    ``initial_delay``, ``multiplier`` and ``max_delay`` (seconds)."""
    if spec.retry is None:
        return None
    policy = dump(spec.retry)
    return {
        key: float(policy[key]) for key in ("attempts", "initial_delay", "multiplier", "max_delay")
    }


def _relative(file: Path) -> str:
    resolved = file.resolve()
    try:
        return str(resolved.relative_to(Path.cwd().resolve()))
    except ValueError:
        return os.fspath(resolved)
