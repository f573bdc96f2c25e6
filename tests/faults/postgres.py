"""A private Postgres server for faults that restart it: ``initdb`` and ``pg_ctl`` on a free
port, under a temporary folder; never the machine's shared server."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivatePostgres:
    """Started on creation; ``restart`` (fast shutdown, then start) and ``stop``."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="dativo-faults-pg-"))
        self.port = _free_port()
        self.data = self.folder / "data"
        self._as: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            os.chown(self.folder, pwd.getpwnam("postgres").pw_uid, -1)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        self._pg_ctl("start")

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def restart(self) -> None:
        self._pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        try:
            self._pg_ctl("stop", "-m", "immediate")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _pg_ctl(self, action: str, *flags: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.folder / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", *flags, action)

    def _run(self, program: str, *args: str) -> None:
        found = shutil.which(program)
        if found is None:
            raise FileNotFoundError(f"{program} is not installed (Debian: postgresql)")
        subprocess.run(
            [*self._as, found, *args], check=True, capture_output=True, text=True, timeout=120
        )
