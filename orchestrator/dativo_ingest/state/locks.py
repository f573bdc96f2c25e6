"""Liveness of a lock holder: same host, same pid, same process start time."""

from __future__ import annotations

import os

from dativo_ingest.processes import host_name, process_start_time
from dativo_ingest.state.store import LockHolder


def worker_name() -> str:
    """Who runs this process's runs, for the run history: ``$DATIVO_WORKER`` or the host."""
    return os.environ.get("DATIVO_WORKER") or host_name()


def holder_is_alive(holder: LockHolder) -> bool:
    """False only when the holder is certainly gone; a holder on another host counts as alive."""
    if holder.host != host_name():
        return True
    return process_start_time(holder.pid) == holder.pid_started
