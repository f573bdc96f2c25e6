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
        )
    spec = connector.spec
    assert spec is not None
    env = ensure_installed(spec, home)
    if spec.engine == "native":
        argv = (str(env.executable(NATIVE_RUNNER)), "--entrypoint", str(spec.entrypoint))
    else:
        argv = (str(env.executable(str(spec.executable))),)
    return Program(spec.name, argv, frozenset(spec.capabilities), fingerprint(spec))
