"""Isolated connector environments built with uv from PyPI."""

from __future__ import annotations

import subprocess

import pytest

from dativo_ingest.install import ConnectorEnv, InstallError


def test_environment_is_built_once_and_reused(tmp_path):
    env = ConnectorEnv(tmp_path / "env", ("six==1.16.0",)).ensure()
    python = env.executable("python")
    assert subprocess.run([python, "-c", "import six"], check=False).returncode == 0
    marker = env.path / ".dativo-installed"
    built_at = marker.stat().st_mtime_ns
    env.ensure()
    assert marker.stat().st_mtime_ns == built_at


def test_failed_install_leaves_nothing_half_built(tmp_path):
    env = ConnectorEnv(tmp_path / "env", ("dativo-no-such-package-xyz==9.9.9",))
    with pytest.raises(InstallError, match="dativo-no-such-package-xyz") as caught:
        env.ensure()
    assert "No solution found" in str(caught.value) or "not found" in str(caught.value)
    assert not env.path.exists()
