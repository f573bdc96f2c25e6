"""A container run through ``docker start --attach`` as the local connector process, its
stdin and stdout on FIFOs."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping
from typing import IO, Any, TypeVar

import docker

from dativo_ingest.logs import get_logger
from dativo_ingest.runtime.container.api import API_ERRORS
from dativo_ingest.runtime.container.cgroup import Cgroup, Usage
from dativo_ingest.runtime.container.reaper import start_reaper, stop_reaper
from dativo_ingest.runtime.container.stdio import StdioPipes
from dativo_ingest.runtime.options import RuntimeOptions
from dativo_ingest.runtime.process import ConnectorProcess, ResourceUsage

log = get_logger(__name__)
_SAMPLE_SECONDS = 0.02
_FIND_SECONDS = 0.005
_FINISH_SECONDS = 10.0
CALL_SECONDS = 10.0  # bound of each API call about a started container
_T = TypeVar("_T")


class ContainerProcess(ConnectorProcess):
    """A container, run through ``docker start --attach`` as the local process: its exit and
    stderr are the container's; ``stdin`` and ``stdout`` are the FIFOs of ``stdio``, whose
    placeholders the attach process holds (see ``stdio``).

    Signals and stops go to the container through the API, each call bounded by the client's
    timeout (``CALL_SECONDS``); the container is removed once it has ended, after its final
    state is read: in the background when monitored (``kill_leftovers``, ``exit_reason`` and
    ``resources`` wait for it), else by ``wait``, ``stop`` or ``kill_leftovers``. If the
    removal fails, the reaper removes it when dativo exits.
    """

    def __init__(
        self,
        name: str,
        api: docker.APIClient,
        container_id: str,
        docker_cli: str,
        stdio: StdioPipes,
        env: Mapping[str, str],
        options: RuntimeOptions,
    ) -> None:
        self.container_id = container_id
        self._api = api
        self._stdio = stdio
        self._finish_lock, self._finished = threading.Lock(), False
        self._memory = options.memory
        self._state: dict[str, Any] = {}
        self._memory_limit = 0
        self._usage = Usage()
        self._reaper = start_reaper(docker_cli, container_id, stdio.folder)
        attach = [docker_cli, "start", "--attach", container_id]
        try:
            super().__init__(
                name,
                attach,
                subprocess.DEVNULL,
                env,
                stdout=subprocess.DEVNULL,
                pass_fds=stdio.placeholders,
            )
        except OSError:
            stdio.close()
            self._finish()
            raise
        finally:
            stdio.drop_placeholders()

    @property
    def stdin(self) -> IO[bytes]:
        assert self._stdio.stdin is not None, f"{self.name} was started without input"
        return self._stdio.stdin

    @property
    def stdout(self) -> IO[bytes]:
        return self._stdio.stdout

    def close_stdin(self) -> None:
        if self._stdio.stdin is not None:
            with contextlib.suppress(OSError):
                self._stdio.stdin.close()

    def monitor(self) -> None:
        """Start measuring: the CLI's exit is the container's; figures come from the
        container's cgroup, not from the CLI process."""
        self._exited = threading.Event()
        threading.Thread(target=self._reap, daemon=True).start()
        threading.Thread(target=self._sample, daemon=True).start()

    def _reap(self) -> None:
        """Once the CLI has exited, finish the container here, off the caller's path: the
        run goes on while it is inspected and removed (``kill_leftovers`` waits for it)."""
        super()._reap()
        self._finish()

    def wait(self, timeout: float | None = None) -> int | None:
        code = super().wait(timeout)
        if code is not None and self._exited is None:  # not monitored: finish it now
            self._finish()
        return code

    def signal_group(self, signum: int) -> None:
        """Send ``signum`` to the container (its init passes it to the connector). Safe in a
        signal handler: the API call runs on its own thread."""
        threading.Thread(target=self._kill, args=(signum,), daemon=True).start()

    def stop(self, grace_seconds: float) -> int:
        """SIGTERM, then after ``grace_seconds`` SIGKILL and the end of the attach; the exit
        code. Returns within ``grace_seconds`` plus a few API calls' bounds."""
        if self.returncode is None:
            self.signal_group(signal.SIGTERM)
            if self.wait(grace_seconds) is None:
                self.kill_leftovers()
        code = self.wait(_FINISH_SECONDS)
        return code if code is not None else -signal.SIGKILL

    def kill_leftovers(self) -> None:
        """Kill the container, its local ``docker start`` process and whatever holds its
        FIFOs (so its stream ends even if the daemon does not answer), and remove it."""
        if self.returncode is None:
            ConnectorProcess.signal_group(self, signal.SIGKILL)  # ends the attach at once
            self._stdio.kill_holders()
            self._kill(signal.SIGKILL)
        self._finish()

    def exit_reason(self) -> str | None:
        self._finished_if_exited()
        if self._state.get("OOMKilled"):
            limit = f" (limit {self._memory})" if self._memory else ""
            return f"was killed: out of memory{limit}"
        if self._state.get("Error"):
            return f"could not start: {self._state['Error']}"
        code = self._state.get("ExitCode", self.returncode)
        if isinstance(code, int) and code > 128 and code - 128 in signal.valid_signals():
            return f"killed by {signal.Signals(code - 128).name}"
        return super().exit_reason()

    def resources(self) -> ResourceUsage:
        """Peak memory and CPU seconds of the container, sampled from its cgroup every
        0.02 s (the last interval is missed); the memory limit if it was killed for exceeding
        it. None when unreadable (another host, another cgroup layout)."""
        self._finished_if_exited()
        peak = self._usage.peak_bytes
        if self._state.get("OOMKilled") and self._memory_limit:
            peak = max(peak or 0, self._memory_limit)
        return ResourceUsage(peak, self._usage.cpu_seconds)

    def _kill(self, signum: int) -> None:
        self._call(lambda: self._api.kill(self.container_id, signal=int(signum)))

    def _call(self, request: Callable[[], _T]) -> _T | None:
        """An API call about this container; None if it failed (gone, no longer running,
        or the daemon did not answer within ``CALL_SECONDS``: logged)."""
        try:
            return request()
        except docker.errors.APIError as exc:
            if exc.status_code not in (404, 409):
                log.warning("Docker, container %s: %s", self.container_id[:12], exc)
        except API_ERRORS as exc:
            log.warning("Docker, container %s: %s", self.container_id[:12], exc)
        return None

    def _finish(self) -> None:
        """Once the CLI has ended: read the final state, remove the container, stop the
        reaper (left running if the removal failed: it removes the container when dativo
        exits)."""
        with self._finish_lock:
            if self._finished:
                return
            self._finished = True
            if hasattr(self, "_popen") and ConnectorProcess.wait(self, _FINISH_SECONDS) is None:
                self._popen.kill()  # the CLI outlived the container
                ConnectorProcess.wait(self, _FINISH_SECONDS)
            self._usage.done.set()
            self._stdio.remove()
            info = self._call(lambda: self._api.inspect_container(self.container_id)) or {}
            self._state = info.get("State") or {}
            self._memory_limit = int((info.get("HostConfig") or {}).get("Memory") or 0)
            if self._remove():
                stop_reaper(self._reaper)

    def _finished_if_exited(self) -> None:
        """Once the container has exited, wait until it is finished (its state read)."""
        if self.returncode is not None:
            self._finish()

    def _remove(self) -> bool:
        """Remove the container (killing it if it runs); False if the daemon did not."""
        try:
            self._api.remove_container(self.container_id, force=True)
        except docker.errors.NotFound:
            return True
        except API_ERRORS as exc:
            log.warning("Docker, removing container %s: %s", self.container_id[:12], exc)
            return False
        return True

    def _sample(self) -> None:
        """Until the container ends: its cgroup's memory (less inactive file cache, as
        ``docker stats`` shows it) and CPU time, every ``_SAMPLE_SECONDS``."""
        daemon = self._call(self._api.info) or {}
        cgroup = Cgroup.of_container(self.container_id, daemon)
        while not cgroup.exists():  # created when the container starts, one controller at a time
            if self._usage.done.wait(_FIND_SECONDS):
                return
        while (figures := cgroup.read()) is not None:
            self._usage.add(*figures)
            if self._usage.done.wait(_SAMPLE_SECONDS):
                return
