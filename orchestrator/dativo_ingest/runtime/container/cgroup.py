"""A container's memory and CPU figures, read from its cgroup (v1 or v2)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class Usage:
    """The largest memory figure and the latest CPU figure seen."""

    def __init__(self) -> None:
        self.peak_bytes: int | None = None
        self.cpu_seconds: float | None = None
        self.done = threading.Event()

    def add(self, memory_bytes: int, cpu_seconds: float) -> None:
        self.peak_bytes = max(self.peak_bytes or 0, memory_bytes)
        self.cpu_seconds = cpu_seconds


@dataclass(frozen=True)
class Cgroup:
    """The files of a container's cgroup (v1 or v2) under /sys/fs/cgroup."""

    usage: Path
    stat: Path
    cpu: Path
    v2: bool

    @classmethod
    def of_container(cls, container_id: str, daemon: Mapping[str, Any]) -> Cgroup:
        """Where Docker's default layout puts the container's cgroup (``daemon``: the
        daemon's info: cgroup driver and version); seen only from the daemon's host."""
        root = Path("/sys/fs/cgroup")
        if daemon.get("CgroupDriver") == "systemd":
            relative = f"system.slice/docker-{container_id}.scope"
        else:
            relative = f"docker/{container_id}"
        if str(daemon.get("CgroupVersion")) == "2":
            unified = root / relative
            return cls(
                unified / "memory.current", unified / "memory.stat", unified / "cpu.stat", True
            )
        memory, cpu = root / "memory" / relative, root / "cpuacct" / relative
        return cls(
            memory / "memory.usage_in_bytes", memory / "memory.stat", cpu / "cpuacct.usage", False
        )

    def exists(self) -> bool:
        return self.usage.exists() and self.stat.exists() and self.cpu.exists()

    def read(self) -> tuple[int, float] | None:
        """(memory bytes less inactive file cache, CPU seconds); None once the cgroup is gone."""
        try:
            usage = int(self.usage.read_text())
            stat = dict(line.split() for line in self.stat.read_text().splitlines())
            cpu_text = self.cpu.read_text()
        except (OSError, ValueError):
            return None
        inactive = int(stat.get("inactive_file" if self.v2 else "total_inactive_file", 0))
        if self.v2:
            cpu = dict(line.split() for line in cpu_text.splitlines())
            return usage - inactive, int(cpu["usage_usec"]) / 1e6
        return usage - inactive, int(cpu_text) / 1e9
