"""Who a process is: its pid, start time and host, so a recorded holder can be told alive."""

from __future__ import annotations

import os
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


def host_name() -> str:
    """This machine's name, as ``socket.gethostname()`` gives it (without importing socket)."""
    return os.uname().nodename


def current_process_identity() -> tuple[str, int, float]:
    """``(host, pid, start time)`` of this process, as stored with a lock."""
    pid = os.getpid()
    return host_name(), pid, process_start_time(pid) or 0.0
