"""Who a process is: its pid, start time and host, so a recorded holder can be told alive."""

from __future__ import annotations

import os
import socket
from pathlib import Path


def process_start_time(pid: int) -> float | None:
    """When ``pid`` started, in clock ticks since boot (``/proc/<pid>/stat``); None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return float(stat.rsplit(")", 1)[1].split()[19])  # field 22: starttime


def pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def current_process_identity() -> tuple[str, int, float]:
    """``(host, pid, start time)`` of this process, as stored with a lock."""
    pid = os.getpid()
    return socket.gethostname(), pid, process_start_time(pid) or 0.0
