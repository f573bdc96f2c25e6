"""Docker images for connectors, built offline: a Debian base image, then one image per
first-party connector FROM it, holding wheels built on the host.

``dativo/python-base:3.11`` is debootstrapped (Debian bookworm minbase + python3) and imported
with ``docker import``, once. A connector's image ``dativo/<name>:<version>`` is built from the
Dockerfile in its folder with a context holding only ``wheels/``: the connector and every
dependency, built or downloaded on the host by pip, installed in the image with ``--no-index``.
The image is labelled with the connector's fingerprint and rebuilt when its source changes.
``DATIVO_BASE_IMAGE`` replaces the base image (e.g. ``python:3.11-slim`` where a registry is
reachable).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import requests

from dativo_ingest.filelock import LockWaitTimeoutError, exclusive
from dativo_ingest.install.connectors import fingerprint
from dativo_ingest.logs import get_logger
from dativo_ingest.registry import ConnectorSpec
from dativo_ingest.runtime.container.api import (
    BUILD_SECONDS,
    DockerError,
    image_exists,
    image_labels,
)

log = get_logger(__name__)
BASE_IMAGE = "dativo/python-base:3.11"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
_BASE_PACKAGES = "python3,python3-venv,ca-certificates"
_STRIPPED = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man")
_SOURCE_LABEL = "dativo.source"  # the connector's fingerprint and the base image
_OUTPUT_TAIL = 3000


def base_image() -> str:
    """The image connector images are built FROM: ``$DATIVO_BASE_IMAGE`` or our own."""
    return os.environ.get("DATIVO_BASE_IMAGE") or BASE_IMAGE


def image_tag(spec: ConnectorSpec) -> str:
    """``dativo/<name>:<version>`` of a first-party connector."""
    return f"dativo/{spec.name}:{connector_version(Path(str(spec.path)))}"


def connector_version(folder: Path) -> str:
    """The version in ``pyproject.toml``: static, or hatch's ``__version__`` file."""
    project = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
    version = project.get("project", {}).get("version")
    source = project.get("tool", {}).get("hatch", {}).get("version", {}).get("path")
    if version is None and source is not None:
        found = re.search(
            r"""^__version__\s*=\s*["']([^"']+)["']""",
            (folder / source).read_text(encoding="utf-8"),
            re.MULTILINE,
        )
        version = found.group(1) if found else None
    if version is None:
        raise DockerError(f"cannot tell the version of the connector in {folder}")
    return str(version)


def ensure_image(
    spec: ConnectorSpec, api: docker.APIClient, *, base: str | None = None, force: bool = False
) -> str:
    """The tag of ``spec``'s image, ``dativo/<name>:<version>-<source fingerprint>``, built
    FROM ``base`` (default: ``base_image()``) unless an image of the same source and base
    exists, whichever checkout built it. ``dativo/<name>:<version>`` names the latest build;
    images of other sources are kept (another checkout may run them)."""
    if spec.path is None:
        raise DockerError(f"{spec.label} has no source folder to build an image from")
    base = base or base_image()
    version_tag = image_tag(spec)
    source_fingerprint = fingerprint(spec, portable=True)
    tag = f"{version_tag}-{source_fingerprint}"
    source = f"{source_fingerprint} FROM {base}"
    if not force and (image_labels(api, tag) or {}).get(_SOURCE_LABEL) == source:
        return tag
    with _build_lock(), _as_docker_error(f"building {tag}"):
        if not force and (image_labels(api, tag) or {}).get(_SOURCE_LABEL) == source:
            return tag  # built by another dativo while this one waited
        if base == BASE_IMAGE and not image_exists(api, BASE_IMAGE):
            _build_base_image()
        _build(spec, tag, base, {_SOURCE_LABEL: source, "dativo.connector": spec.name}, api)
        repository, _, version = version_tag.rpartition(":")
        api.tag(tag, repository, version, force=True)
    return tag


def ensure_base_image(api: docker.APIClient) -> str:
    """The tag of ``dativo/python-base:3.11``, built first if it does not exist."""
    with _build_lock(), _as_docker_error(f"building {BASE_IMAGE}"):
        if not image_exists(api, BASE_IMAGE):
            _build_base_image()
    return BASE_IMAGE


def _build_base_image() -> None:
    """debootstrap (needs root and a Debian mirror, ``$DATIVO_DEBIAN_MIRROR``), strip,
    ``docker import``."""
    if os.geteuid() != 0 or shutil.which("debootstrap") is None:
        raise DockerError(
            f"building the base image {BASE_IMAGE} needs root and debootstrap: run "
            "`sudo dativo build` once, or set DATIVO_BASE_IMAGE=python:3.11-slim "
            "where an image registry is reachable"
        )
    mirror = os.environ.get("DATIVO_DEBIAN_MIRROR") or DEBIAN_MIRROR
    log.info(
        "building the base image %s: debootstrap of Debian bookworm (minutes, once)", BASE_IMAGE
    )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dativo-base-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        _run(
            "debootstrap",
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={_BASE_PACKAGES}",
                "bookworm",
                str(rootfs),
                mirror,
            ],
        )
        for part in _STRIPPED:
            shutil.rmtree(rootfs / part, ignore_errors=True)
        log.info("importing the base image %s ...", BASE_IMAGE)
        changes = [
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "ENV LANG=C.UTF-8",
            'CMD ["python3"]',
        ]
        command = [_docker_cli(), "import", *_flags("--change", changes), "-", BASE_IMAGE]
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        assert tar.stdout is not None
        with tar.stdout:
            _run("docker import", command, stdin=tar.stdout)
        if tar.wait() != 0:
            raise DockerError(f"tar of the base image's root folder {rootfs} failed")
    log.info("built %s in %.0fs", BASE_IMAGE, time.monotonic() - started)


def _build(
    spec: ConnectorSpec, tag: str, base: str, labels: dict[str, str], api: docker.APIClient
) -> None:
    folder = Path(str(spec.path))
    if not (folder / "Dockerfile").is_file():
        raise DockerError(f"no Dockerfile in {folder}; see docs/containers.md for the template")
    if sys.version_info[:2] != (3, 11):
        raise DockerError("connector images hold Python 3.11: run `dativo build` with 3.11")
    previous = _image_id(api, tag)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dativo-build-") as context:
        wheels = Path(context) / "wheels"
        log.info("building %s: wheels of %s and its dependencies ...", tag, spec.name)
        # --no-cache-dir: pip would reuse a wheel it built from a local folder at the same
        # version (our libraries), even after their code changed
        pip = [
            sys.executable,
            "-m",
            "pip",
            "--disable-pip-version-check",
            "--no-cache-dir",
            "wheel",
        ]
        _run("pip wheel", [*pip, "--wheel-dir", str(wheels), str(folder)])
        shutil.copy(folder / "Dockerfile", Path(context) / "Dockerfile")
        log.info("building %s: docker build FROM %s ...", tag, base)
        docker_build(api, context, tag, base, labels)
    if previous is not None and previous != _image_id(api, tag):
        with contextlib.suppress(docker.errors.APIError):  # still used by a container
            api.remove_image(previous)
    log.info("built %s in %.0fs", tag, time.monotonic() - started)


def docker_build(
    api: docker.APIClient, context: str, tag: str, base: str, labels: dict[str, str]
) -> None:
    """``docker build`` of ``context`` with ``BASE_IMAGE=base``, without network: everything
    it installs is in the context. Shows the Dockerfile's steps as they run."""
    output: list[str] = []
    with _as_docker_error(f"docker build of {tag}"):
        chunks = api.build(
            path=context,
            timeout=BUILD_SECONDS,
            tag=tag,
            buildargs={"BASE_IMAGE": base},
            labels=labels,
            network_mode="none",
            rm=True,
            forcerm=True,
            decode=True,
        )
        for chunk in chunks:
            text = str(chunk.get("stream") or "")
            output.append(text)
            if text.startswith("Step "):
                log.info("  %s", text.strip())
            elif text.strip():
                log.debug("  %s", text.rstrip())
            if "error" in chunk:
                tail = "".join(output)[-_OUTPUT_TAIL:]
                raise DockerError(f"docker build of {tag} failed: {chunk['error']}\n{tail}")


def _image_id(api: docker.APIClient, image: str) -> str | None:
    try:
        return str(api.inspect_image(image)["Id"])
    except docker.errors.ImageNotFound:
        return None


def _run(what: str, command: list[str], stdin: Any = None) -> None:
    """Run a build step, its output streamed to the log at DEBUG; its tail in the error."""
    tail: deque[str] = deque(maxlen=40)
    with subprocess.Popen(
        command, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            tail.append(line)
            log.debug("  [%s] %s", what, line.rstrip())
    if process.returncode != 0:
        output = "".join(tail)[-_OUTPUT_TAIL:]
        raise DockerError(f"{what} failed (exit {process.returncode}):\n{output}")


def _docker_cli() -> str:
    found = shutil.which("docker")
    if found is None:
        raise DockerError("the docker command is not installed (Debian: apt-get install docker.io)")
    return found


def _flags(flag: str, values: list[str]) -> list[str]:
    return [part for value in values for part in (flag, value)]


@contextlib.contextmanager
def _as_docker_error(doing: str) -> Iterator[None]:
    try:
        yield
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise DockerError(f"{doing}: Docker: {exc}") from None


@contextlib.contextmanager
def _build_lock() -> Iterator[None]:
    """One image build at a time on this machine: concurrent runs wait (at most
    ``BUILD_SECONDS``), then reuse what was built."""
    path = Path(tempfile.gettempdir()) / f"dativo-image-build-{os.geteuid()}.lock"
    try:
        with exclusive(path, BUILD_SECONDS):
            yield
    except LockWaitTimeoutError:
        raise DockerError(
            f"another dativo has been building images for {BUILD_SECONDS:.0f}s "
            f"(lock {path}); try again when it is done"
        ) from None
