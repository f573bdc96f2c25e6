"""Fixtures shared by the orchestrator's and the connectors' test suites."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent


def require(condition: bool, reason: str) -> None:
    """Fail under CI, skip loudly elsewhere, when a real component a test needs is missing."""
    if condition:
        return
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"required component missing in CI: {reason}")
    pytest.skip(f"SKIPPED, NOT TESTED: {reason}")


@pytest.fixture(scope="session")
def connector_exe():
    """Return the path of an installed connector executable (``make setup`` installs them)."""

    def find(name: str) -> str:
        path = shutil.which(name) or shutil.which(str(REPO_ROOT / ".connectors" / "bin" / name))
        require(path is not None, f"connector {name!r} is not installed; run `make setup`")
        return str(path)

    return find
