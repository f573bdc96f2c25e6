"""What runs in a container and what it sees of the host: command, mounts, user, limits."""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker

from dativo_ingest.protocol.adapters import adapter_for
from dativo_ingest.runtime.container.stdio import CONTAINER_FOLDER, StdioPipes
from dativo_ingest.runtime.options import RuntimeOptions
from dativo_ingest.runtime.program import Program

CONTAINER_UID = 65532  # the containers' user when dativo runs as root (distroless "nonroot")


@dataclass(frozen=True)
class ContainerSpec:
    """What runs in the container and what it sees of the host."""

    entrypoint: list[str]
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
        stdio: StdioPipes,
    ) -> ContainerSpec:
        """The run's files (config, catalog, state) are read-only under /dativo, or under
        /airbyte for Airbyte images, whose ``AIRBYTE_ENTRYPOINT`` runs; the paths in ``args``
        follow. ``runtime.mounts`` are at the same paths as on the host, so paths in configs
        hold; the working folder is dativo's when it is inside one of them. The connector's
        command line (the program's, the image's ``AIRBYTE_ENTRYPOINT`` or its entrypoint)
        runs behind ``stdio``'s wrapper, its stdin and stdout on the FIFOs."""
        binds: dict[str, dict[str, str]] = {}
        for mount in options.mounts or []:
            binds[mount.path] = {"bind": mount.path, "mode": "rw" if mount.writable else "ro"}
        cwd = Path.cwd()
        inside = any(cwd == Path(b) or Path(b) in cwd.parents for b in binds)
        binds[str(stdio.folder)] = {"bind": CONTAINER_FOLDER, "mode": "ro"}
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
        config = api.inspect_image(image).get("Config") or {}
        entrypoint = list(program.container_argv)
        if adapter.entrypoint_variable:
            entrypoint = _variable(config, adapter.entrypoint_variable) or entrypoint
        if not entrypoint:  # the image's own, with its Cmd when there are no arguments
            entrypoint = list(config.get("Entrypoint") or [])
            command = command or list(config.get("Cmd") or [])
        return cls([*stdio.wrapper(), *entrypoint], command, binds, str(cwd) if inside else None)

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


def _variable(config: dict[str, Any], variable: str) -> list[str] | None:
    """The command line in the image's environment variable ``variable``, if set."""
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


def hand_over_workdir(workdir: Path) -> str:
    """The containers' ``uid:gid``; under root, the run's private folder is handed to it."""
    uid, gid = container_ids()
    if os.geteuid() == 0:
        for path in (workdir, *workdir.iterdir()):
            os.chown(path, uid, gid)
    return f"{uid}:{gid}"
