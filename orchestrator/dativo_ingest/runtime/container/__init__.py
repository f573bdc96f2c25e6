"""A connector in a Docker container, behind the same interface as a local process.

The container is created with the Docker API (limits, non-root user, read-only root with a
writable /tmp, no new privileges, no capabilities, labels), then ``docker start --attach``
runs as the local process: its exit is the container's, its stderr the container's. The
container's stdin and stdout are FIFOs in a private folder (``stdio``), so the stream goes
from process to process through the kernel, never through the daemon, and the relay is
unchanged. The container is removed when it ends, whatever the outcome; a reaper process
removes it if dativo dies first, and each start removes containers left by dativo processes
that are gone.

No wait here is unbounded: API calls about a running container time out after
``CALL_SECONDS``, and stopping one kills the local ``docker start`` process after the grace
period, and the processes holding the container's FIFOs, which ends its stream whatever the
daemon does.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from secrets import token_hex

from dativo_ingest.exceptions import RunFailedError
from dativo_ingest.runtime.container.api import API_ERRORS, BUILD_SECONDS, DockerError, connect
from dativo_ingest.runtime.container.image import image_for
from dativo_ingest.runtime.container.orphans import owner_labels, remove_orphans
from dativo_ingest.runtime.container.process import CALL_SECONDS, ContainerProcess
from dativo_ingest.runtime.container.spec import ContainerSpec, container_ids, hand_over_workdir
from dativo_ingest.runtime.container.stdio import StdioPipes
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
    stdio = StdioPipes(stdin is None, *container_ids())
    try:
        with _start_errors(program):
            api = connect()
            remove_orphans(api)
            image = image_for(program, options, api)
            spec = ContainerSpec.build(program, args, options, image, workdir, api, stdio)
            container = api.create_container(
                image,
                spec.command,
                entrypoint=spec.entrypoint,
                user=hand_over_workdir(workdir),
                environment={
                    "HOME": "/tmp",
                    **{k: v for k, v in env.items() if k.startswith("DATIVO_")},
                },
                working_dir=spec.working_dir,
                labels={**labels, **owner_labels(), "dativo.connector": program.name},
                name=f"dativo-{re.sub(r'[^a-zA-Z0-9_.-]', '-', program.name)}-{token_hex(3)}",
                host_config=api.create_host_config(**spec.host_config(options)),
            )
    except BaseException:
        stdio.close()
        raise
    return ContainerProcess(
        program.name, connect(CALL_SECONDS), container["Id"], docker_cli, stdio, env, options
    )


def prepare_container(program: Program, options: RuntimeOptions) -> None:
    """Check the mounts against the container's user and build or pull the image now, so that
    a wrong folder or a slow or failed build starts nothing."""
    check_mounts(program.name, options.mounts or [], *container_ids())
    with _start_errors(program):
        image_for(program, options, connect(BUILD_SECONDS))


@contextlib.contextmanager
def _start_errors(program: Program) -> Iterator[None]:
    """Docker's failures as the run's: ``cannot start <connector>: <reason>``."""
    try:
        yield
    except DockerError as exc:
        raise RunFailedError(f"cannot start {program.name}: {exc}", program.name) from None
    except API_ERRORS as exc:
        raise RunFailedError(f"cannot start {program.name}: Docker: {exc}", program.name) from None
