"""The state store interface: job states, run history and per-job locks."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

import orjson


def is_empty_state(value: Any) -> bool:
    """True for states that must never overwrite a stored one: null, {}, [], ""."""
    return value is None or (isinstance(value, dict | list | str) and not value)


def state_point(value: Any) -> str:
    """The point a run resuming from a stored state resumes from, as targets name it
    (``$DATIVO_RESUME_POINT``): ``state:`` and the SHA-256 of the state's JSON with sorted
    keys, the same a target computes of the STATE value it echoed."""
    import hashlib  # only a run resuming from a stored state needs it

    digest = hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"state:{digest}"


def new_run_id() -> str:
    """A unique, time-sortable run id."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{os.urandom(3).hex()}"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class StoredState(NamedTuple):
    """A job's state and when and by which run it was written."""

    state_id: str
    value: Any
    updated_at: str
    run_id: str | None


@dataclass
class RunRecord:
    """One line of run history."""

    run_id: str
    state_id: str
    job_file: str
    started_at: str
    status: str = "running"
    ended_at: str | None = None
    duration_s: float | None = None
    source_exit: int | None = None
    target_exit: int | None = None
    records: int = 0
    bytes: int = 0
    states_saved: int = 0
    streams: dict[str, int] = field(default_factory=dict)
    orchestrator_peak_rss_bytes: int | None = None
    error: str | None = None
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)  # per side
    attempt: int = 1  # 1, or the retry's number under the job's `retry` policy
    retry_reason: str | None = None  # why the previous attempt was retried
    log_path: str | None = None  # the run's log file
    worker: str | None = None  # which machine (or `dativo worker`) ran it
    contracts: dict[str, dict[str, Any]] = field(default_factory=dict)  # per stream

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class LockHolder(NamedTuple):
    """Who holds a job's lock."""

    state_id: str
    run_id: str
    host: str
    pid: int
    pid_started: float
    acquired_at: str


class StateStore(Protocol):
    """What the pipeline and the CLI need from a state backend (SQLite, Postgres)."""

    def get_state(self, state_id: str) -> StoredState | None: ...

    def set_state(self, state_id: str, value: Any, run_id: str | None = None) -> bool:
        """Persist ``value`` atomically; return False (and write nothing) if it is empty.

        With ``run_id``, the write is accepted only while that run holds the job's lock;
        otherwise it is recorded in ``fenced_writes`` and StateFencedError is raised.
        """
        ...

    def clear_state(self, state_id: str) -> bool: ...

    def fenced_writes(self, state_id: str | None = None) -> list[dict[str, Any]]:
        """State writes refused because their run no longer held the job's lock."""
        ...

    def list_states(self) -> list[StoredState]: ...

    def get_connector_config(self, state_id: str, side: str) -> dict[str, Any] | None:
        """A config a connector replaced at run time (Airbyte CONTROL), if any."""
        ...

    def set_connector_config(self, state_id: str, side: str, config: dict[str, Any]) -> None: ...

    def acquire_lock(self, state_id: str, run_id: str) -> LockHolder | None:
        """Take the job's lock; return the stale holder it replaced, if any.

        Raises JobLockedError when a live run holds it.
        """
        ...

    def release_lock(self, state_id: str, run_id: str) -> None: ...

    def mark_abandoned_runs(self) -> list[str]:
        """Mark ``abandoned`` the runs whose lock is held by a dativo that is certainly gone,
        and free those locks; return the run ids (any command may call it)."""
        ...

    def record_run(self, run: RunRecord) -> None:
        """Insert or update a run's history line."""
        ...

    def list_runs(self, limit: int = 20, state_id: str | None = None) -> list[RunRecord]: ...

    def close(self) -> None: ...
