"""Isolated connector environments built with uv from PyPI."""

from __future__ import annotations

import subprocess
import sys

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


def test_processes_installing_the_same_environment_take_turns(tmp_path):
    """Four processes ensure one environment at once: one builds it, the others reuse it
    (uv refuses to create a virtual environment over one being built)."""
    code = (
        "import sys; from pathlib import Path; from dativo_ingest.install import ConnectorEnv; "
        "ConnectorEnv(Path(sys.argv[1]), ('six==1.16.0',)).ensure()"
    )
    path = tmp_path / "env"
    processes = [
        subprocess.Popen([sys.executable, "-c", code, str(path)], stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=120)[1] for p in processes]
    outcomes = [(p.returncode, err) for p, err in zip(processes, errors, strict=True)]
    assert outcomes == [(0, "")] * 4
    assert ConnectorEnv(path, ("six==1.16.0",)).is_complete


def test_a_connector_fingerprint_covers_the_folders_it_depends_on_by_path(tmp_path, monkeypatch):
    """target-iceberg installs target-parquet from the checkout by path: editing target-parquet
    must give target-iceberg a new environment, or it would run the old target-parquet."""
    import shutil

    from dativo_ingest.install import connectors
    from dativo_ingest.registry import ConnectorSpec

    checkout = tmp_path / "checkout"
    for folder in ("targets/target-iceberg", "targets/target-parquet", "libs"):
        shutil.copytree(
            connectors.shipped_root() / folder,
            checkout / folder,
            ignore=shutil.ignore_patterns(".venv", "__pycache__", "tests"),
        )
    monkeypatch.setattr(connectors, "shipped_root", lambda: checkout)
    monkeypatch.setattr(connectors, "LOCAL_LIBRARIES", checkout / "libs")
    spec = ConnectorSpec(
        name="target-iceberg",
        variant="dativo",
        type="target",
        engine="singer",
        executable="target-iceberg",
        path=str(checkout / "targets/target-iceberg"),
    )
    before = connectors.fingerprint(spec)
    converter = checkout / "targets/target-parquet/target_parquet/convert.py"
    converter.write_text(converter.read_text() + "\n# changed\n")
    assert connectors.fingerprint(spec) != before
