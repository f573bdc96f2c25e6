"""Liveness of a lock holder: same host, same pid, same process start time."""

from __future__ import annotations

import os
import socket

import psutil

from dativo_ingest.state.store import LockHolder


def current_process_identity() -> tuple[str, int, float]:
    """``(host, pid, start time)`` of this process, as stored with a lock."""
    return socket.gethostname(), os.getpid(), psutil.Process().create_time()


def holder_is_alive(holder: LockHolder) -> bool:
    """False only when the holder is certainly gone; a holder on another host counts as alive."""
    if holder.host != socket.gethostname():
        return True
    try:
        started = psutil.Process(holder.pid).create_time()
    except psutil.NoSuchProcess:
        return False
    return abs(started - holder.pid_started) < 1.0
