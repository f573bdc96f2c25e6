"""Which image a container runs: named, pulled, or built for a first-party connector."""

from __future__ import annotations

import docker

from dativo_ingest.logs import get_logger
from dativo_ingest.runtime.container.api import API_ERRORS, DockerError, image_exists
from dativo_ingest.runtime.options import RuntimeOptions
from dativo_ingest.runtime.program import Program

log = get_logger(__name__)


def image_for(program: Program, options: RuntimeOptions, api: docker.APIClient) -> str:
    """The image to run: ``runtime.image``, the registry's ``docker_image`` (pulled if it is
    not here), or the first-party connector's own image (built if missing or out of date)."""
    named = options.image or program.image
    if named is not None:
        if not image_exists(api, named):
            log.info("pulling %s ...", named)
            try:
                api.pull(named)
            except API_ERRORS as exc:
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
