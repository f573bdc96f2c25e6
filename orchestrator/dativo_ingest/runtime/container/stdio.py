"""A container's stdin and stdout as named pipes (FIFOs) in a private folder, so the stream
goes from process to process through the kernel, as with a subprocess, never through the
Docker daemon.

The folder (``0700``, owned by the containers' user) holds the FIFO ``out`` and, when dativo
feeds the container, ``in``. The container sees it alone, read-only at ``CONTAINER_FOLDER``,
where a ``/bin/sh`` wrapper points the connector's stdout and stdin at the FIFOs.

Opening a FIFO blocks until its other end is open, and its reader sees EOF (its writer EPIPE)
only once every end of the other kind is closed. So dativo opens its own end at once, with a
placeholder of the other end (``O_NONBLOCK`` opens never block once the read end exists), and
hands the placeholders to the local ``docker start --attach`` process, which lives exactly as
long as the container (or until dativo kills it): the container's own opens never block,
dativo sees no early EOF before the container opened its end, and once the container is gone
the kernel closes the placeholders, so dativo sees EOF and EPIPE as with a process's pipes,
whatever the container did.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from pathlib import Path
from typing import IO

from dativo_ingest.runtime.process import enlarge_pipe

CONTAINER_FOLDER = "/dativo-stdio"
_OUT, _IN = "out", "in"


class StdioPipes:
    """The FIFOs of one container: dativo reads ``stdout``, writes ``stdin`` (None when the
    container gets no input); ``placeholders`` are for the attach process to hold."""

    def __init__(self, feed_stdin: bool, uid: int, gid: int) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="dativo-stdio-"))  # 0700
        self.placeholders: list[int] = []
        self.stdin: IO[bytes] | None = None
        try:
            names = [_OUT, _IN] if feed_stdin else [_OUT]
            for name in names:
                os.mkfifo(self.folder / name, 0o600)
            if os.geteuid() == 0:  # the containers run as ``uid``, never as root
                for path in (self.folder, *(self.folder / name for name in names)):
                    os.chown(path, uid, gid)
            self.stdout: IO[bytes] = os.fdopen(self._open_end(_OUT, True), "rb", buffering=0)
            if feed_stdin:
                self.stdin = os.fdopen(self._open_end(_IN, False), "wb", buffering=0)
            fifos = [(self.folder / name).stat() for name in names]
            self._inodes = {(fifo.st_dev, fifo.st_ino) for fifo in fifos}
        except BaseException:
            self.close()
            raise

    def wrapper(self, folder: str = CONTAINER_FOLDER) -> list[str]:
        """The entrypoint prefix that runs the rest of the command line on the FIFOs, seen
        in ``folder``.

        Each FIFO is first opened read-write on fd 3 (which never blocks), so opening it for
        the connector does not wait for dativo's end either (dativo may be done with it
        already: its data stays in the pipe, which the placeholders keep); then fd 3 closes.
        """
        fifos = [(">", _OUT), *([("<", _IN)] if self.stdin is not None else [])]
        opens = "".join(f"exec 3<>{folder}/{n} {way}{folder}/{n} 3<&-; " for way, n in fifos)
        return ["/bin/sh", "-c", opens + 'exec "$@"', "dativo-stdio"]

    def _open_end(self, name: str, reading: bool) -> int:
        """dativo's end of FIFO ``name`` (blocking I/O), its placeholder of the other end
        kept in ``placeholders``. The read end opens first: with O_NONBLOCK it never waits,
        and then neither does the write end."""
        path = self.folder / name
        reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            writer = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            os.close(reader)
            raise
        mine, other = (reader, writer) if reading else (writer, reader)
        self.placeholders.append(other)
        os.set_blocking(mine, True)
        enlarge_pipe(mine)
        return mine

    def drop_placeholders(self) -> None:
        """Close dativo's copies of the placeholders (the attach process holds its own)."""
        for fd in self.placeholders:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.placeholders = []

    def kill_holders(self) -> None:
        """SIGKILL every other process that has one of the FIFOs open: the container's
        connector, stopped without the daemon (one that does not answer cannot stop it)."""
        me = os.getpid()
        with os.scandir("/proc") as processes:
            pids = [int(p.name) for p in processes if p.name.isdigit() and int(p.name) != me]
        for pid in pids:
            if _holds_any(pid, self._inodes):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        """Close every end dativo holds, and remove the folder (the FIFOs live on as long
        as the container has them open)."""
        self.drop_placeholders()
        for stream in (getattr(self, "stdout", None), self.stdin):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self.remove()

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _holds_any(pid: int, inodes: set[tuple[int, int]]) -> bool:
    """Whether process ``pid`` has a file of ``inodes`` ((device, inode) pairs) open."""
    try:
        with os.scandir(f"/proc/{pid}/fd") as fds:
            for fd in fds:
                with contextlib.suppress(OSError):  # closed since listed
                    info = fd.stat()
                    if (info.st_dev, info.st_ino) in inodes:
                        return True
    except OSError:  # gone, or not ours to look at
        pass
    return False
