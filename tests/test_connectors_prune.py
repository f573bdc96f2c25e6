"""``dativo connectors prune``: a connector's past environments go, the ones its registry
entry and jobs start stay; a job that does not load stops it before anything is removed."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def project(tmp_path: Path, dativo, env: dict[str, str]) -> Path:
    env["DATIVO_CONNECTORS_DIR"] = str(tmp_path / "envs")  # private: prune removes things
    assert dativo("init", tmp_path / "p").returncode == 0
    made = dativo("new", "connector", "pruned", cwd=tmp_path / "p")
    assert made.returncode == 0, made.stderr
    return tmp_path / "p"


def test_prune_removes_past_environments_only(project, dativo, tmp_path):
    first = dativo("install", "pruned", cwd=project)
    assert first.returncode == 0, first.stderr
    extractor = project / "connectors" / "pruned" / "pruned" / "extractor.py"
    extractor.write_text(extractor.read_text() + "\n# changed\n")
    second = dativo("install", "pruned", cwd=project)
    assert second.returncode == 0, second.stderr
    old, new = first.stdout.split(": ")[1].strip(), second.stdout.split(": ")[1].strip()
    assert old != new and Path(old).is_dir() and Path(new).is_dir()
    assert Path(old).parent == tmp_path / "envs"

    dry = dativo("connectors", "prune", "--dry-run", cwd=project)
    assert dry.returncode == 0, dry.stderr
    assert f"would remove {old}" in dry.stdout and Path(old).is_dir()

    pruned = dativo("connectors", "prune", cwd=project)
    assert pruned.returncode == 0, pruned.stderr
    assert f"removed {old}" in pruned.stdout
    assert "1 unused environment(s), 1 kept" in pruned.stdout
    assert not Path(old).exists() and Path(new).is_dir()

    (project / "jobs" / "broken.yaml").write_text("tenant_id: x\n")
    extractor.write_text(extractor.read_text() + "\n# changed again\n")
    refused = dativo("connectors", "prune", cwd=project)
    assert refused.returncode == 2 and "nothing pruned" in refused.stderr
    assert Path(new).is_dir()
