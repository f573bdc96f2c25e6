"""A connector in a Docker container, behind the same interface as a local process.

The container is created with the Docker API (limits, non-root user, read-only root with a
writable /tmp, no new privileges, no capabilities, labels), then ``docker start --attach``
runs as the local process: its stdin/stdout/stderr are the container's, demultiplexed by the
docker CLI, so the relay is unchanged. The container is removed when it ends, whatever the
outcome; a reaper process removes it if dativo dies first, and each start removes containers
left by dativo processes that are gone.

No wait here is unbounded: API calls about a running container time out after
``CALL_SECONDS``, and stopping one kills the local ``docker start`` process after the grace
period, which ends its attach stream (a daemon that cannot deliver a container's output to an
attached client cannot finish stopping it).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

import docker
import requests

from dativo_ingest.exceptions import RunFailedError
from dativo_ingest.logs import get_logger
from dativo_ingest.processes import current_process_identity, process_start_time
from dativo_ingest.protocol.adapters import adapter_for
from dativo_ingest.runtime.docker_api import BUILD_SECONDS, DockerError, connect, image_exists
from dativo_ingest.runtime.mounts import check_mounts
from dativo_ingest.runtime.options import Mount, RuntimeOptions
from dativo_ingest.runtime.process import ConnectorProcess, ResourceUsage
from dativo_ingest.runtime.program import Program

log = get_logger(__name__)
MANAGED_LABEL = "dativo.managed"
CONTAINER_UID = 65532  # the containers' user when dativo runs as root (distroless "nonroot")
_SAMPLE_SECONDS = 0.02
_FIND_SECONDS = 0.005
_FINISH_SECONDS = 10.0
CALL_SECONDS = 10.0  # bound of each API call about a started container
_API_ERRORS = (docker.errors.DockerException, requests.RequestException)
_T = TypeVar("_T")


def start_container(
    program: Program,
    args: Sequence[str | Path],
    options: RuntimeOptions,
    *,
    env: Mapping[str, str],
    stdin: int | None,
    workdir: Path,
    labels: Mapping[str, str],
) -> ContainerProcess:
    """Start ``program`` in a container of its image (built or pulled first if missing)."""
    docker_cli = shutil.which("docker")
    if docker_cli is None:
        raise RunFailedError(
            f"cannot start {program.name}: the docker command is not installed", program.name
        )
    try:
        api = connect()
        remove_orphans(api)
        image = image_for(program, options, api)
        spec = ContainerSpec.build(program, args, options, image, workdir, api)
        container = api.create_container(
            image,
            spec.command,
            entrypoint=spec.entrypoint,
            user=_hand_over_workdir(workdir),
            stdin_open=stdin is None,
            environment={
                "HOME": "/tmp",
                **{k: v for k, v in env.items() if k.startswith("DATIVO_")},
            },
            working_dir=spec.working_dir,
            labels={**labels, **_owner_labels(), "dativo.connector": program.name},
            name=f"dativo-{re.sub(r'[^a-zA-Z0-9_.-]', '-', program.name)}-{secrets.token_hex(3)}",
            host_config=api.create_host_config(**spec.host_config(options)),
        )
    except DockerError as exc:
        raise RunFailedError(f"cannot start {program.name}: {exc}", program.name) from None
    except _API_ERRORS as exc:
        raise RunFailedError(f"cannot start {program.name}: Docker: {exc}", program.name) from None
    return ContainerProcess(
        program.name, connect(CALL_SECONDS), container["Id"], docker_cli, stdin, env, options
    )


def prepare_container(program: Program, options: RuntimeOptions) -> None:
    """Check the mounts against the container's user and build or pull the image now, so that
    a wrong folder or a slow or failed build starts nothing."""
    check_mounts(program.name, options.mounts or [], *container_ids())
    try:
        image_for(program, options, connect(BUILD_SECONDS))
    except DockerError as exc:
        raise RunFailedError(f"cannot start {program.name}: {exc}", program.name) from None
    except _API_ERRORS as exc:
        raise RunFailedError(f"cannot start {program.name}: Docker: {exc}", program.name) from None


def image_for(program: Program, options: RuntimeOptions, api: docker.APIClient) -> str:
    """The image to run: ``runtime.image``, the registry's ``docker_image`` (pulled if it is
    not here), or the first-party connector's own image (built if missing or out of date)."""
    named = options.image or program.image
    if named is not None:
        if not image_exists(api, named):
            log.info("pulling %s ...", named)
            try:
                api.pull(named)
            except _API_ERRORS as exc:
                raise DockerError(
                    f"image {named} is not here and cannot be pulled: {exc}"
                ) from None
        return named
    if program.build_image is None:
        raise DockerError(
            f"{program.name} has no Docker image: name one with `runtime: {{image: ...}}` "
            "(or `docker_image` in its registry entry), or run it with `mode: subprocess`"
        )
    return program.build_image(api)


@dataclass(frozen=True)
class ContainerSpec:
    """What runs in the container and what it sees of the host."""

    entrypoint: list[str] | None
    command: list[str]
    binds: dict[str, dict[str, str]]
    working_dir: str | None

    @classmethod
    def build(
        cls,
        program: Program,
        args: Sequence[str | Path],
        options: RuntimeOptions,
        image: str,
        workdir: Path,
        api: docker.APIClient,
    ) -> ContainerSpec:
        """The run's files (config, catalog, state) are read-only under /dativo, or under
        /airbyte for Airbyte images, whose ``AIRBYTE_ENTRYPOINT`` runs; the paths in ``args``
        follow. ``runtime.mounts`` are at the same paths as on the host, so paths in configs
        hold; the working folder is dativo's when it is inside one of them."""
        binds: dict[str, dict[str, str]] = {}
        for given in options.mounts or []:
            mount = Mount.model_validate(given)  # RuntimeOptions.over() leaves dicts here
            binds[mount.path] = {"bind": mount.path, "mode": "rw" if mount.writable else "ro"}
        cwd = Path.cwd()
        inside = any(cwd == Path(b) or Path(b) in cwd.parents for b in binds)
        adapter = adapter_for(program.protocol)
        folder = adapter.container_folder
        command = [str(arg) for arg in args]
        for index, arg in enumerate(args):
            if Path(arg).parent == workdir:
                command[index] = f"{folder}/{Path(arg).name}"
                if adapter.mounts_files_singly:  # the image has its own code in that folder
                    binds[str(arg)] = {"bind": command[index], "mode": "ro"}
        if not adapter.mounts_files_singly:
            binds[str(workdir)] = {"bind": folder, "mode": "ro"}
        entrypoint = list(program.container_argv) or None
        if adapter.entrypoint_variable:
            entrypoint = _image_entrypoint(api, image, adapter.entrypoint_variable) or entrypoint
        return cls(entrypoint, command, binds, str(cwd) if inside else None)

    def host_config(self, options: RuntimeOptions) -> dict[str, Any]:
        network = options.network or "bridge"
        config: dict[str, Any] = {
            "binds": self.binds,
            "network_mode": network,
            "read_only": True,
            "tmpfs": {"/tmp": "rw,nosuid,nodev,exec,mode=1777"},
            "security_opt": ["no-new-privileges"],
            "cap_drop": ["ALL"],
            "init": True,  # signals reach the connector, which is not PID 1
            "log_config": {"type": "none", "config": {}},  # the stream is not kept
        }
        if network == "bridge":
            config["extra_hosts"] = {"host.docker.internal": "host-gateway"}
        if options.memory:
            config["mem_limit"] = config["memswap_limit"] = options.memory
        if options.cpus:
            config["nano_cpus"] = int(options.cpus * 1e9)
        return config


def _image_entrypoint(api: docker.APIClient, image: str, variable: str) -> list[str] | None:
    """The command line in the image's environment variable ``variable``, if set."""
    config = api.inspect_image(image).get("Config") or {}
    for entry in config.get("Env") or []:
        name, _, value = entry.partition("=")
        if name == variable and value.strip():
            return shlex.split(value)
    return None


def container_ids() -> tuple[int, int]:
    """The containers' (uid, gid): dativo's own, which owns the run's files; under root,
    ``CONTAINER_UID``, never root."""
    if os.geteuid() != 0:
        return os.geteuid(), os.getegid()
    return CONTAINER_UID, CONTAINER_UID


def _hand_over_workdir(workdir: Path) -> str:
    """The containers' ``uid:gid``; under root, the run's private folder is handed to it."""
    uid, gid = container_ids()
    if os.geteuid() == 0:
        for path in (workdir, *workdir.iterdir()):
            os.chown(path, uid, gid)
    return f"{uid}:{gid}"


def _owner_labels() -> dict[str, str]:
    host, pid, started = current_process_identity()
    return {
        MANAGED_LABEL: "true",
        "dativo.host": host,
        "dativo.pid": str(pid),
        "dativo.pid_started": str(started),
    }


def _owner_alive(labels: Mapping[str, str]) -> bool:
    """Whether the dativo process that created the container still runs (pid and start time)."""
    try:
        pid, started = int(labels.get("dativo.pid", "")), float(labels["dativo.pid_started"])
    except (KeyError, ValueError):
        return False
    return process_start_time(pid) == started


def remove_orphans(api: docker.APIClient) -> list[str]:
    """Remove containers of this host whose dativo process is gone; return their names."""
    found = api.containers(
        all=True,
        filters={"label": [f"{MANAGED_LABEL}=true", f"dativo.host={socket.gethostname()}"]},
    )
    removed = []
    for container in found:
        if not _owner_alive(container.get("Labels") or {}):
            with contextlib.suppress(docker.errors.NotFound):
                api.remove_container(container["Id"], force=True)
            removed.append(",".join(container.get("Names") or [container["Id"][:12]]))
    if removed:
        log.info("removed %d container(s) left by a dativo that died: %s", len(removed), removed)
    return removed


class ContainerProcess(ConnectorProcess):
    """A container, run through ``docker start --attach`` as the local process.

    Signals and stops go to the container through the API, each call bounded by the client's
    timeout (``CALL_SECONDS``); the container is removed once it has ended (``wait``,
    ``stop``, ``kill_leftovers``), after its final state is read. If the removal fails, the
    reaper removes it when dativo exits.
    """

    def __init__(
        self,
        name: str,
        api: docker.APIClient,
        container_id: str,
        docker_cli: str,
        stdin: int | None,
        env: Mapping[str, str],
        options: RuntimeOptions,
    ) -> None:
        self.container_id = container_id
        self._api = api
        self._finish_lock, self._finished = threading.Lock(), False
        self._memory = options.memory
        self._state: dict[str, Any] = {}
        self._memory_limit = 0
        self._usage = _Usage()
        self._reaper = _start_reaper(docker_cli, container_id)
        attach = [docker_cli, "start", "--attach", *(["--interactive"] if stdin is None else [])]
        try:
            super().__init__(name, [*attach, container_id], stdin, env)
        except OSError:
            self._finish()
            raise

    def monitor(self) -> None:
        """Start measuring: the CLI's exit is the container's; figures come from the
        container's cgroup, not from the CLI process."""
        self._exited = threading.Event()
        threading.Thread(target=self._reap, daemon=True).start()
        threading.Thread(target=self._sample, daemon=True).start()

    def wait(self, timeout: float | None = None) -> int | None:
        code = super().wait(timeout)
        if code is not None:
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
        """Kill the container and its local ``docker start`` process, and remove it."""
        if self.returncode is None:
            ConnectorProcess.signal_group(self, signal.SIGKILL)  # ends the attach at once
            self._kill(signal.SIGKILL)
        self._finish()

    def exit_reason(self) -> str | None:
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
        except _API_ERRORS as exc:
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
            info = self._call(lambda: self._api.inspect_container(self.container_id)) or {}
            self._state = info.get("State") or {}
            self._memory_limit = int((info.get("HostConfig") or {}).get("Memory") or 0)
            if self._remove():
                _stop_reaper(self._reaper)

    def _remove(self) -> bool:
        """Remove the container (killing it if it runs); False if the daemon did not."""
        try:
            self._api.remove_container(self.container_id, force=True)
        except docker.errors.NotFound:
            return True
        except _API_ERRORS as exc:
            log.warning("Docker, removing container %s: %s", self.container_id[:12], exc)
            return False
        return True

    def _sample(self) -> None:
        """Until the container ends: its cgroup's memory (less inactive file cache, as
        ``docker stats`` shows it) and CPU time, every ``_SAMPLE_SECONDS``."""
        daemon = self._call(self._api.info) or {}
        cgroup = _Cgroup.of_container(self.container_id, daemon)
        while not cgroup.exists():  # created when the container starts, one controller at a time
            if self._usage.done.wait(_FIND_SECONDS):
                return
        while (figures := cgroup.read()) is not None:
            self._usage.add(*figures)
            if self._usage.done.wait(_SAMPLE_SECONDS):
                return


class _Usage:
    """The largest memory figure and the latest CPU figure seen."""

    def __init__(self) -> None:
        self.peak_bytes: int | None = None
        self.cpu_seconds: float | None = None
        self.done = threading.Event()

    def add(self, memory_bytes: int, cpu_seconds: float) -> None:
        self.peak_bytes = max(self.peak_bytes or 0, memory_bytes)
        self.cpu_seconds = cpu_seconds


@dataclass(frozen=True)
class _Cgroup:
    """The files of a container's cgroup (v1 or v2) under /sys/fs/cgroup."""

    usage: Path
    stat: Path
    cpu: Path
    v2: bool

    @classmethod
    def of_container(cls, container_id: str, daemon: Mapping[str, Any]) -> _Cgroup:
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


def _start_reaper(docker_cli: str, container_id: str) -> subprocess.Popen[bytes]:
    """A process that removes the container unless told ``done``: if dativo dies, even by
    SIGKILL, its end of the pipe closes and the reaper removes the container."""
    script = 'read -r line; [ "$line" = done ] || exec "$1" rm --force "$2" >/dev/null 2>&1'
    return subprocess.Popen(
        ["sh", "-c", script, "dativo-reaper", docker_cli, container_id],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # not in dativo's process group: a Ctrl-C does not stop it
    )


def _stop_reaper(reaper: subprocess.Popen[bytes]) -> None:
    stdin: IO[bytes] | None = reaper.stdin
    if stdin is None:
        return
    with contextlib.suppress(OSError):
        stdin.write(b"done\n")
    with contextlib.suppress(OSError):
        stdin.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        reaper.wait(_FINISH_SECONDS)
