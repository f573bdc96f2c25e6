"""``dativo new connector``: a connector of each kind, as generated, passes its own tests (in an
environment of its own, as its README says) and runs in its example job."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

UV = str(Path(sys.executable).with_name("uv"))
PYTHON = sys.executable


@pytest.fixture
def project(tmp_path: Path, dativo) -> Path:
    assert dativo("init", tmp_path).returncode == 0
    return tmp_path


def own_tests(folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Install the connector with its test extra in ``folder/.venv`` and run its tests."""
    venv = folder / ".venv"
    subprocess.run([UV, "venv", "-q", str(venv), "--python", PYTHON], env=env, check=True)
    python = str(venv / "bin" / "python")
    subprocess.run(
        [UV, "pip", "install", "-q", "--python", python, "-e", f"{folder}[test]"],
        env=env,
        check=True,
        capture_output=True,
    )
    return subprocess.run(
        [str(venv / "bin" / "pytest"), "-q", "-p", "no:cacheprovider"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("kind", "stream", "records"),
    [("native", "items", 10), ("tap", "items", 10), ("target", "customers", 4)],
)
@pytest.mark.timeout(300)
def test_a_generated_connector_passes_its_tests_and_runs_in_a_job(
    project, dativo, env, kind, stream, records
):
    name = f"scaffolded-{kind}"
    made = dativo("new", "connector", name, "--kind", kind, cwd=project)
    assert made.returncode == 0, made.stdout + made.stderr
    folder = project / "connectors" / name
    tests = own_tests(folder, env)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert " passed" in tests.stdout

    run = dativo("run", project / "jobs" / f"{name}.yaml", cwd=project, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    out = project / "output" / name
    lines = [
        json.loads(line)
        for file in out.glob(f"{stream}*.jsonl")
        for line in file.read_text().splitlines()
    ]
    assert len(lines) == records


def test_bad_names_and_existing_folders_are_refused_before_writing(
    project, dativo, tmp_path_factory
):
    outside = tmp_path_factory.mktemp("outside")  # no dativo.yaml here or above
    loose = dativo("new", "connector", "loose", cwd=outside)
    assert loose.returncode == 2 and "run `dativo init` first" in loose.stderr
    assert list(outside.iterdir()) == []
    bad = dativo("new", "connector", "My_API", cwd=project)
    assert bad.returncode == 2 and "lower-case letters" in bad.stderr
    (project / "connectors" / "taken").mkdir(parents=True)
    (project / "connectors" / "taken" / "file").write_text("x")
    taken = dativo("new", "connector", "taken", cwd=project)
    assert taken.returncode == 2 and "is not empty" in taken.stderr
    assert not (project / "registry.yaml").exists()
    assert dativo("new", "connector", "fine", cwd=project).returncode == 0
    again = dativo("new", "connector", "fine", "--directory", "elsewhere", cwd=project)
    assert again.returncode == 2 and "exists" in again.stderr


def test_the_entry_joins_an_existing_registry_as_written(project, dativo):
    registry = project / "registry.yaml"
    registry.write_text("# ours\nconnectors:\n    - name: mine\n      type: source\n")
    assert dativo("new", "connector", "second", cwd=project).returncode == 0
    text = registry.read_text()
    assert text.startswith("# ours\nconnectors:\n    - name: mine\n")
    entries = yaml.safe_load(text)["connectors"]
    assert [e["name"] for e in entries] == ["mine", "second"]
    assert entries[1]["path"] == "connectors/second"
