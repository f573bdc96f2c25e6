"""A watcher process that removes a container (and its FIFOs' folder) if dativo dies first."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path
from typing import IO

_WAIT_SECONDS = 10.0


def start_reaper(docker_cli: str, container_id: str, folder: Path) -> subprocess.Popen[bytes]:
    """A process that removes the container and ``folder`` unless told ``done``: if dativo
    dies, even by SIGKILL, its end of the pipe closes and the reaper removes both."""
    script = (
        'read -r line; [ "$line" = done ] || { rm -rf "$3"; "$1" rm --force "$2"; } >/dev/null 2>&1'
    )
    return subprocess.Popen(
        ["sh", "-c", script, "dativo-reaper", docker_cli, container_id, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # not in dativo's process group: a Ctrl-C does not stop it
    )


def stop_reaper(reaper: subprocess.Popen[bytes]) -> None:
    stdin: IO[bytes] | None = reaper.stdin
    if stdin is None:
        return
    with contextlib.suppress(OSError):
        stdin.write(b"done\n")
    with contextlib.suppress(OSError):
        stdin.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        reaper.wait(_WAIT_SECONDS)
