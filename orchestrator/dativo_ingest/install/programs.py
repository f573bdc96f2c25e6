"""From a job's connector to a program ready to start, installing it first if needed."""

from __future__ import annotations

from pathlib import Path

from dativo_ingest.config import Connector
from dativo_ingest.config.loader import INLINE_CAPABILITIES
from dativo_ingest.install.connectors import ensure_installed, fingerprint
from dativo_ingest.runtime.program import Program

NATIVE_RUNNER = "dativo-native"


def program_for(connector: Connector, side: str, home: Path) -> Program:
    """The program for ``connector`` on ``side`` (source/target); installs registry and
    ``pip_url`` connectors that are not installed yet."""
    if connector.executable is not None:
        stat = connector.executable.stat()
        return Program(
            connector.name,
            (str(connector.executable),),
            frozenset(INLINE_CAPABILITIES[side]),
            f"{connector.executable}:{stat.st_mtime_ns}:{stat.st_size}",
            protocol=connector.protocol,
        )
    spec = connector.spec
    assert spec is not None
    if spec.engine == "native":
        command: tuple[str, ...] = (NATIVE_RUNNER, "--entrypoint", str(spec.entrypoint))
    else:
        command = (str(spec.executable),) if spec.executable else ()
    argv: tuple[str, ...] = ()
    if spec.docker_image is None:
        env = ensure_installed(spec, home)
        argv = (str(env.executable(command[0])), *command[1:])
    return Program(
        spec.name,
        argv,
        frozenset(spec.capabilities),
        spec.docker_image or fingerprint(spec),
        protocol=spec.protocol,
        image=spec.docker_image,
        container_argv=command,
        runtime=spec.runtime,
    )
