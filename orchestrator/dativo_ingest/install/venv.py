"""One connector's virtual environment: create with uv, reuse while complete, never half-built."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from dativo_ingest.exceptions import DativoError
from dativo_ingest.filelock import LockWaitTimeoutError, exclusive

_COMPLETE_MARKER = ".dativo-installed"
_OUTPUT_TAIL = 3000
INSTALL_WAIT_SECONDS = 1800.0  # how long a second process waits for the same install


class InstallError(DativoError):
    """A connector could not be installed; carries the tail of the installer's output."""


def _uv() -> str:
    """The uv binary of the ``uv`` package dativo depends on, else one on PATH."""
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
    if found is None:
        raise InstallError("uv is not installed; `pip install uv` (dativo installs connectors)")
    return found


@dataclass(frozen=True)
class ConnectorEnv:
    """The environment at ``path`` holding the packages ``requirements``."""

    path: Path
    requirements: tuple[str, ...]
    python: str = f"{sys.version_info.major}.{sys.version_info.minor}"

    @property
    def is_complete(self) -> bool:
        return (self.path / _COMPLETE_MARKER).exists()

    def executable(self, name: str) -> Path:
        return self.path / "bin" / name

    def ensure(self) -> ConnectorEnv:
        """Build the environment unless a complete one is there; a failed build is removed.
        Processes installing the same environment take turns; the later ones reuse it."""
        if self.is_complete:
            return self
        lock = self.path.with_name(f".{self.path.name}.lock")
        try:
            with exclusive(lock, INSTALL_WAIT_SECONDS):
                if not self.is_complete:
                    self._build()
        except LockWaitTimeoutError:
            raise InstallError(
                f"another dativo has been installing {self.path} for "
                f"{INSTALL_WAIT_SECONDS:.0f}s (lock {lock}); try again when it is done"
            ) from None
        return self

    def _build(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        uv = _uv()
        steps = [
            [uv, "venv", "--quiet", "--python", self.python, str(self.path)],
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "--compile-bytecode",
                "--python",
                str(self.executable("python")),
                *self.requirements,
            ],
        ]
        for step in steps:
            result = subprocess.run(step, capture_output=True, text=True)
            if result.returncode != 0:
                shutil.rmtree(self.path, ignore_errors=True)
                output = (result.stdout + result.stderr)[-_OUTPUT_TAIL:]
                raise InstallError(
                    f"installing {' '.join(self.requirements)} into {self.path} failed:\n{output}"
                )
        (self.path / _COMPLETE_MARKER).touch()
