"""Talking to the local Docker daemon: a bounded client, and whether an image is here."""

from __future__ import annotations

import docker
import requests

from dativo_ingest.exceptions import DativoError

API_SECONDS = 60.0  # bound of an API call before any container runs
BUILD_SECONDS = 3600.0  # bound of the image work: builds of minutes are normal under load
API_ERRORS = (docker.errors.DockerException, requests.RequestException)


class DockerError(DativoError):
    """Docker is unreachable, or an image cannot be found or built; the message says which."""


_API_VERSIONS: dict[str, str] = {}  # daemon address -> API version negotiated with it


def connect(timeout: float = API_SECONDS) -> docker.APIClient:
    """A client of the local Docker daemon (``DOCKER_HOST`` and friends are honoured) whose
    calls fail after ``timeout`` seconds without an answer. The API version is negotiated
    with the first client of a daemon only (a run makes several)."""
    settings = docker.utils.kwargs_from_env()
    address = str(settings.get("base_url"))
    try:
        client = docker.APIClient(
            version=_API_VERSIONS.get(address, "auto"), timeout=timeout, **settings
        )
    except docker.errors.DockerException as exc:
        raise DockerError(
            f"cannot reach the Docker daemon ({exc}); start dockerd, or run the connector "
            "with `runtime: {mode: subprocess}`"
        ) from None
    _API_VERSIONS[address] = client.api_version
    return client


def image_exists(api: docker.APIClient, image: str) -> bool:
    return image_labels(api, image) is not None


def image_labels(api: docker.APIClient, image: str) -> dict[str, str] | None:
    """The image's labels, or None if there is no such image locally."""
    try:
        config = api.inspect_image(image).get("Config") or {}
    except docker.errors.ImageNotFound:
        return None
    return config.get("Labels") or {}
