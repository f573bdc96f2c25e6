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

import re
import secrets
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from dativo_ingest.exceptions import RunFailedError
from dativo_ingest.runtime.container.api import API_ERRORS, BUILD_SECONDS, DockerError, connect
from dativo_ingest.runtime.container.image import image_for
from dativo_ingest.runtime.container.orphans import owner_labels, remove_orphans
from dativo_ingest.runtime.container.process import CALL_SECONDS, ContainerProcess
from dativo_ingest.runtime.container.spec import ContainerSpec, container_ids, hand_over_workdir
from dativo_ingest.runtime.mounts import check_mounts
from dativo_ingest.runtime.options import RuntimeOptions
from dativo_ingest.runtime.program import Program


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
            user=hand_over_workdir(workdir),
            stdin_open=stdin is None,
            environment={
                "HOME": "/tmp",
                **{k: v for k, v in env.items() if k.startswith("DATIVO_")},
            },
            working_dir=spec.working_dir,
            labels={**labels, **owner_labels(), "dativo.connector": program.name},
            name=f"dativo-{re.sub(r'[^a-zA-Z0-9_.-]', '-', program.name)}-{secrets.token_hex(3)}",
            host_config=api.create_host_config(**spec.host_config(options)),
        )
    except DockerError as exc:
        raise RunFailedError(f"cannot start {program.name}: {exc}", program.name) from None
    except API_ERRORS as exc:
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
    except API_ERRORS as exc:
        raise RunFailedError(f"cannot start {program.name}: Docker: {exc}", program.name) from None
