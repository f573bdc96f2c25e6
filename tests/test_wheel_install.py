"""A built wheel is all a user needs: `pip install` it into a fresh virtual environment, with
no source checkout on the way, then `dativo init` and the example job by registry names.
Started from three folders, the job installs its connectors once and resumes one state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from uv import find_uv_bin

REPO = Path(__file__).resolve().parents[1]
_NETWORK_ERRORS = ("NewConnectionError", "name resolution", "Could not fetch", "timed out")


def test_wheel_in_a_fresh_venv_runs_init_and_the_example_job(tmp_path, require_component):
    dist = tmp_path / "dist"
    built = subprocess.run(
        [find_uv_bin(), "build", "--wheel", "--out-dir", str(dist), str(REPO)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("dativo_ingest-*.whl")

    venv = tmp_path / "venv"
    # a plain virtual environment with pip in it (uv creates it in a fraction of `-m venv`)
    subprocess.run(
        [find_uv_bin(), "venv", "--quiet", "--seed", "--python", sys.executable, str(venv)],
        check=True,
        timeout=120,
    )
    installed = subprocess.run(
        [venv / "bin/pip", "install", "--quiet", "--no-compile", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if installed.returncode != 0 and any(e in installed.stderr for e in _NETWORK_ERRORS):
        require_component(False, f"PyPI for the wheel's dependencies: {installed.stderr[-500:]}")
    assert installed.returncode == 0, installed.stderr

    # nothing of the checkout on the way: not its environments, not its folder
    path = os.pathsep.join([str(venv / "bin"), "/usr/local/bin", "/usr/bin", "/bin"])
    drop = {"DATIVO_HOME", "DATIVO_CONNECTORS_DIR", "PYTHONPATH", "VIRTUAL_ENV"}
    env = {**{k: v for k, v in os.environ.items() if k not in drop}, "PATH": path}
    where = subprocess.run(
        [venv / "bin/python", "-c", "import dativo_ingest; print(dativo_ingest.__file__)"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=True,
    )  # fmt: skip
    assert where.stdout.startswith(str(venv)), where.stdout

    init = subprocess.run(
        ["dativo", "init", "demo"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert init.returncode == 0, init.stderr
    demo = tmp_path / "demo"
    runs = [
        subprocess.run(
            ["dativo", "run", os.path.relpath(demo / "jobs/example/csv_to_jsonl.yaml", folder)],
            capture_output=True,
            text=True,
            env=env,
            cwd=folder,
            timeout=300,
        )
        for folder in (demo, demo / "jobs", tmp_path)
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert str(REPO) not in run.stderr
    shipped = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert f"installing tap-csv (dativo) from {shipped}" in runs[0].stderr
    for run in runs[1:]:
        assert "installing" not in run.stderr
        assert "resuming example/csv_to_jsonl" in run.stderr
    assert not (tmp_path / ".dativo").exists() and not (demo / "jobs" / ".dativo").exists()
    rows = [
        json.loads(line)
        for output in sorted((demo / "output/example").glob("customers-*.jsonl"))
        for line in output.read_text().splitlines()
    ]
    assert sorted(row["id"] for row in rows) == [1, 2, 3, 4, 4, 4]  # then the bookmark only
