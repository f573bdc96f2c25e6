"""From a job's connector to a program ready to start, installing it first if needed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from dativo_ingest.config import Connector
from dativo_ingest.config.loader import INLINE_CAPABILITIES
from dativo_ingest.config.settings_check import SettingsSpec, settings_problems
from dativo_ingest.exceptions import JobFileError
from dativo_ingest.install.about import cached_about
from dativo_ingest.install.connectors import ensure_installed, fingerprint
from dativo_ingest.protocol.names import Capability
from dativo_ingest.runtime.program import Program

if TYPE_CHECKING:
    import docker

    from dativo_ingest.registry import ConnectorSpec

NATIVE_RUNNER = "dativo-native"


def program_for(connector: Connector, side: str, home: Path) -> Program:
    """The program for ``connector`` on ``side`` (source/target/mapper); installs registry and
    ``pip_url`` connectors that are not installed yet, and checks the connector's config
    against the settings its ``--about`` declares (JobFileError, exit 2)."""
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
    identity = spec.docker_image or fingerprint(spec)
    if spec.docker_image is None:
        env = ensure_installed(spec, home, identity)
        argv = (str(env.executable(command[0])), *command[1:])
        if spec.has(Capability.ABOUT) and spec.engine != "native":
            _check_settings(connector, side, cached_about(env.path, Path(argv[0])))
    return Program(
        spec.name,
        argv,
        frozenset(spec.capabilities),
        identity,
        protocol=spec.protocol,
        image=spec.docker_image,
        container_argv=command,
        runtime=spec.runtime,
        build_image=_image_builder(spec) if spec.path and not spec.docker_image else None,
    )


def _image_builder(spec: ConnectorSpec) -> Callable[[docker.APIClient], str]:
    """Builds ``spec``'s image when a container needs it; the Docker SDK is loaded only then."""

    def build(api: docker.APIClient) -> str:
        from dativo_ingest.install.images import ensure_image

        return ensure_image(spec, api)

    return build


def _check_settings(connector: Connector, side: str, about: dict[str, object]) -> None:
    settings = about.get("settings")
    if not isinstance(settings, dict):
        return
    problems = settings_problems(
        connector.config,
        SettingsSpec.from_json_schema(settings),
        f"{connector.key or side}.config",
    )
    if problems:
        raise JobFileError(str(connector.job_file or connector.name), problems)
