"""A connector as a local subprocess: own process group, large pipes, dies with dativo."""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, NamedTuple

PIPE_SIZE = 1 << 20
MEMORY_SAMPLE_SECONDS = 0.1
_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True)


class ResourceUsage(NamedTuple):
    """What a connector used; None where it could not be measured."""

    peak_rss_bytes: int | None
    cpu_seconds: float | None


def die_with_parent(parent_pid: int, signal_number: int = signal.SIGKILL) -> None:
    """Runs in the child before exec: send it ``signal_number`` (default SIGKILL) when the
    process that started it dies, even by SIGKILL."""
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal_number, 0, 0, 0)
    if os.getppid() != parent_pid:  # dativo died before prctl took effect
        os._exit(1)


def enlarge_pipe(fd: int) -> None:
    """Give the pipe (or FIFO) behind ``fd`` a ``PIPE_SIZE`` buffer, as far as allowed."""
    with contextlib.suppress(OSError):  # capped by /proc/sys/fs/pipe-max-size; best effort
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)


class ConnectorProcess:
    """One connector run as a subprocess with stdin, stdout and stderr piped to dativo
    (``stdin`` and ``stdout``: None for a pipe, else what the process gets instead); the
    descriptors in ``pass_fds`` stay open in the process for as long as it lives."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str | Path],
        stdin: int | IO[bytes] | None = None,
        env: Mapping[str, str] | None = None,
        *,
        stdout: int | None = None,
        pass_fds: Sequence[int] = (),
    ) -> None:
        self.name = name
        self.argv = [str(a) for a in argv]
        parent = os.getpid()
        self._popen = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE if stdin is None else stdin,
            stdout=subprocess.PIPE if stdout is None else stdout,
            stderr=subprocess.PIPE,
            bufsize=0,
            start_new_session=True,
            env=env,
            pass_fds=pass_fds,
            preexec_fn=lambda: die_with_parent(parent),  # before any thread starts
        )
        for stream in (self._popen.stdin, self._popen.stdout):
            if stream is not None:
                enlarge_pipe(stream.fileno())
        self._exited: threading.Event | None = None
        self._peak_rss: int | None = None
        self._cpu_seconds: float | None = None

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def stdin(self) -> IO[bytes]:
        assert self._popen.stdin is not None
        return self._popen.stdin

    @property
    def stdout(self) -> IO[bytes]:
        assert self._popen.stdout is not None
        return self._popen.stdout

    @property
    def stderr(self) -> IO[bytes]:
        assert self._popen.stderr is not None
        return self._popen.stderr

    @property
    def returncode(self) -> int | None:
        if self._exited is None:
            return self._popen.poll()
        return self._popen.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit code, or None if still running after ``timeout`` seconds."""
        if self._exited is None:
            try:
                return self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                return None
        self._exited.wait(timeout)
        return self._popen.returncode

    def monitor(self) -> None:
        """Start measuring: peak memory sampled from ``/proc``, CPU time from ``wait4``.

        Call once every connector of the run is started (preexec_fn and threads don't mix).
        """
        self._exited = threading.Event()
        threading.Thread(target=self._reap, daemon=True).start()
        threading.Thread(target=self._sample_memory, daemon=True).start()

    def _reap(self) -> None:
        assert self._exited is not None
        _, status, usage = os.wait4(self._popen.pid, 0)
        self._cpu_seconds = usage.ru_utime + usage.ru_stime
        self._popen.returncode = os.waitstatus_to_exitcode(status)
        self._exited.set()

    def _sample_memory(self) -> None:
        assert self._exited is not None
        status = Path(f"/proc/{self._popen.pid}/status")
        while True:
            try:
                for line in status.read_bytes().splitlines():
                    if line.startswith(b"VmHWM:"):
                        self._peak_rss = max(self._peak_rss or 0, int(line.split()[1]) * 1024)
            except (OSError, ValueError):
                return
            if self._exited.wait(MEMORY_SAMPLE_SECONDS):
                return

    def resources(self) -> ResourceUsage:
        """Peak memory (sampled every 0.1 s) and CPU seconds, once the connector exited."""
        return ResourceUsage(self._peak_rss, self._cpu_seconds)

    def signal_group(self, signum: int) -> None:
        """Send ``signum`` to the connector and every process it started."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._popen.pid, signum)

    def stop(self, grace_seconds: float) -> int:
        """SIGTERM, then SIGKILL after ``grace_seconds``; return the exit code."""
        if self.returncode is None:
            self.signal_group(signal.SIGTERM)
            if self.wait(grace_seconds) is None:
                self.signal_group(signal.SIGKILL)
        return self.wait()  # type: ignore[return-value]

    def kill_leftovers(self) -> None:
        """SIGKILL whatever is left of the connector's process group (its own children)."""
        self.signal_group(signal.SIGKILL)

    def exit_reason(self) -> str | None:
        """Why the connector ended, when its exit code alone does not say (e.g. out of memory)."""
        code = self.returncode
        if code is not None and code < 0:
            return f"killed by {signal.Signals(-code).name}"
        return None

    def close_stdin(self) -> None:
        if self._popen.stdin is not None:
            with contextlib.suppress(OSError):
                self._popen.stdin.close()
