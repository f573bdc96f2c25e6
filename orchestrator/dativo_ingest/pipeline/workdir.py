"""The private folder holding a run's config, catalog and state files."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dativo_ingest.processes import pid_exists


@contextmanager
def private_workdir(home: Path) -> Iterator[Path]:
    """A fresh 0700 folder under ``home/tmp``, removed on exit.

    Folders left by a dativo process that was killed are removed first: their names carry
    the owner's pid.
    """
    root = home / "tmp"
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    _remove_orphans(root)
    path = Path(tempfile.mkdtemp(prefix=f"run-{os.getpid()}-", dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def write_private(path: Path, data: bytes) -> Path:
    """Create ``path`` readable by its owner only (0600) and write ``data`` to it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    return path


def _remove_orphans(root: Path) -> None:
    for folder in root.glob("run-*-*"):
        owner = folder.name.split("-")[1]
        if owner.isdigit() and not pid_exists(int(owner)):
            shutil.rmtree(folder, ignore_errors=True)
