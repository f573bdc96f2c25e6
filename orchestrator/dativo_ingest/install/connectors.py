"""Installing registry connectors: one environment per connector under
``$DATIVO_HOME/connectors``, named by a fingerprint of what goes into it."""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from dativo_ingest.install.venv import ConnectorEnv
from dativo_ingest.logs import get_logger
from dativo_ingest.paths import shipped_root

if TYPE_CHECKING:
    import hashlib

    from dativo_ingest.registry import ConnectorSpec

log = get_logger(__name__)
ORCHESTRATOR_SOURCE = Path(__file__).resolve().parents[3]
LOCAL_LIBRARIES = shipped_root() / "libs"
_SKIPPED_PARTS = {"__pycache__", ".pytest_cache", ".ruff_cache", ".venv", ".git", "tests"}
# a first-party connector's dependency on another folder of the checkout, in its pyproject
_PATH_DEPENDENCY = re.compile(r"@ \{root:parent:parent:uri\}/([\w./-]+)")


def requirements(spec: ConnectorSpec) -> tuple[str, ...]:
    """What ``uv pip install`` gets for this connector. A ``pip_url`` may hold several
    requirements separated by spaces (as Meltano Hub entries do); ``name @ url`` stays one."""
    if spec.path:
        return (spec.path,)
    if spec.pip_url is None:
        raise ValueError(f"{spec.label} is not installed with pip (docker_image)")
    parts: list[str] = []
    tokens = iter(spec.pip_url.split())
    for token in tokens:
        if token == "@" and parts:
            parts[-1] += f" @ {next(tokens, '')}"
        else:
            parts.append(token)
    return tuple(parts)


def fingerprint(spec: ConnectorSpec, *, portable: bool = False) -> str:
    """Changes whenever what would be installed changes: name, variant, pip_url or the
    contents of the source folders, and the Python version. ``portable``: source folders
    count by content only, not by where they are (images are shared between checkouts)."""
    import hashlib  # only installs need it, not a run of programs given by path

    digest = hashlib.sha256()
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    wanted = [Path(r).name if portable and Path(r).is_dir() else r for r in requirements(spec)]
    for part in (spec.name, spec.variant, spec.engine, python, *wanted):
        digest.update(part.encode() + b"\0")
    folders = [Path(r) for r in requirements(spec) if Path(r).is_dir()]
    if folders:  # what a first-party folder may pull in by path: other connectors' folders,
        # our libraries (hashed whole, once), and for native connectors dativo-ingest's runner
        folders = [f for f in _with_path_dependencies(folders) if LOCAL_LIBRARIES not in f.parents]
        folders.append(LOCAL_LIBRARIES)
        if spec.engine == "native":
            folders.append(ORCHESTRATOR_SOURCE)
    for folder in folders:
        _hash_folder(folder, digest)
    return digest.hexdigest()[:16]


def _with_path_dependencies(folders: list[Path]) -> list[Path]:
    """``folders`` and the checkout's folders their ``pyproject.toml`` files depend on by path
    (target-iceberg on target-parquet, say), transitively: installing one installs those."""
    found: list[Path] = []
    pending = list(folders)
    while pending:
        folder = pending.pop(0)
        if folder in found:
            continue
        found.append(folder)
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            text = pyproject.read_text()
            pending += [shipped_root() / rel for rel in _PATH_DEPENDENCY.findall(text)]
    return found


def _hash_folder(folder: Path, digest: hashlib._Hash) -> None:
    if folder == ORCHESTRATOR_SOURCE:
        folder = folder / "orchestrator"
    for file in sorted(folder.rglob("*")):
        if file.is_file() and not _SKIPPED_PARTS.intersection(file.relative_to(folder).parts):
            digest.update(str(file.relative_to(folder)).encode() + b"\0")
            digest.update(file.read_bytes())


def connectors_dir(home: Path) -> Path:
    """``$DATIVO_CONNECTORS_DIR``, or ``$DATIVO_HOME/connectors``."""
    return Path(os.environ.get("DATIVO_CONNECTORS_DIR") or home / "connectors")


ENV_NAME = re.compile(r"^[\w.-]+--[\w.-]+--[0-9a-f]{16}$")


def environments(home: Path) -> list[Path]:
    """The connector environments in :func:`connectors_dir` (folders named like
    :func:`connector_env`'s), in name order."""
    folder = connectors_dir(home)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and ENV_NAME.match(p.name))


def connector_env(spec: ConnectorSpec, home: Path, digest: str | None = None) -> ConnectorEnv:
    """The environment this connector lives in (installed or not); ``digest``: its
    :func:`fingerprint`, when the caller has it already (it reads every source file)."""
    digest = digest or fingerprint(spec)
    path = connectors_dir(home) / f"{spec.name}--{spec.variant}--{digest}"
    return ConnectorEnv(path, requirements(spec))


def ensure_installed(spec: ConnectorSpec, home: Path, digest: str | None = None) -> ConnectorEnv:
    """Install the connector unless an environment with the same fingerprint is complete."""
    env = connector_env(spec, home, digest)
    if env.is_complete:
        return env
    source = spec.path or spec.pip_url
    log.info("installing %s from %s ...", spec.label, source)
    started = time.monotonic()
    env.ensure()
    log.info("installed %s in %.1fs (%s)", spec.label, time.monotonic() - started, env.path)
    return env
