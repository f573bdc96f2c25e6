"""Docker mode under faults: a failed container ends the run as fast as a failed process,
signals end it within the grace period, a mount the container's user cannot use is refused
before anything starts, and no container is left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from dativo_ingest.install.images import ensure_image
from dativo_ingest.registry import load_registry
from dativo_ingest.runtime.container.spec import CONTAINER_UID
from tests.conftest import DATIVO, FAKE_TAP
from tests.test_docker_runtime import (  # noqa: F401 - fixtures
    containers,
    docker_api,
    probe_image,
    probe_job,
    runs,
    wait_for,
    write,
)

pytestmark = pytest.mark.timeout(900)
GRACE = 3


@pytest.fixture(scope="session")
def csv_images(docker_api, connector_exe) -> None:  # noqa: F811
    """tap-csv and target-jsonl images, built before the timed runs (reused when current)."""
    connector_exe("tap-csv"), connector_exe("target-jsonl")
    registry = load_registry()
    for name in ("tap-csv", "target-jsonl"):
        ensure_image(registry.resolve(name), docker_api)


def csv_job(tmp_path: Path, name: str, rows: int, target_folder: Path, **target: bool) -> Path:
    """tap-csv -> target-jsonl, both in containers; ``rows`` rows in the mounted CSV."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    with open(data / "items.csv", "w") as csv:
        csv.write("id,name\n")
        csv.writelines(f"{i},name-{i}\n" for i in range(1, rows + 1))
    mounts = [{"path": str(data)}]
    if target.get("mount_output", True):
        mounts.append({"path": str(target_folder), "writable": True})
    return write(
        tmp_path / f"{name}.yaml",
        {
            "name": name,
            "runtime": {"mode": "docker", "mounts": mounts},
            "source": {
                "connector": "tap-csv",
                "config": {
                    "files": [{"entity": "items", "path": str(data / "items.csv"), "keys": ["id"]}]
                },
            },
            "target": {
                "connector": "target-jsonl",
                "config": {"destination_path": str(target_folder)},
            },
        },
    )


def timed_run(dativo, job: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], float]:
    began = time.monotonic()
    result = dativo("run", job, "--grace-seconds", str(GRACE), *extra, timeout=120)
    return result, time.monotonic() - began


def test_unwritable_mount_is_refused_before_anything_starts(tmp_path, dativo, docker_api):  # noqa: F811
    if os.geteuid() != 0:
        pytest.skip("as a non-root user the containers run as that user, who owns tmp_path")
    out = tmp_path / "out"
    out.mkdir(mode=0o755)  # root's: the containers' uid cannot write it
    job = csv_job(tmp_path, "unwritable", 10, out)
    result, _ = timed_run(dativo, job)
    assert result.returncode == 2, result.stderr
    assert f"the container runs as uid {CONTAINER_UID}" in result.stderr
    assert f"it cannot write the folder {out}" in result.stderr
    assert f"chown -R {CONTAINER_UID}:{CONTAINER_UID} {out}" in result.stderr
    assert "Traceback" not in result.stderr
    assert containers("dativo.state_id=acme/unwritable") == []
    assert runs(dativo)[0]["status"] == "failed"


def test_a_target_that_fails_at_once_ends_the_run_promptly(tmp_path, dativo, csv_images):
    """The issue's hang: the target dies while the tap's container still streams output."""
    job = csv_job(tmp_path, "target-dies", 300_000, tmp_path / "not-mounted", mount_output=False)
    result, took = timed_run(dativo, job)
    assert result.returncode == 1, result.stderr
    assert "target-jsonl failed with exit code 1" in result.stderr
    assert took < GRACE + 15, f"took {took:.1f}s\n{result.stderr}"
    assert containers("dativo.state_id=acme/target-dies") == []
    assert runs(dativo)[0]["status"] == "failed"


def test_a_tap_that_fails_ends_the_run_promptly(tmp_path, dativo, csv_images):
    out = tmp_path / "out"
    out.mkdir()
    if os.geteuid() == 0:
        os.chown(out, CONTAINER_UID, CONTAINER_UID)
    job = csv_job(tmp_path, "tap-dies", 50_000, out)
    with open(tmp_path / "data" / "items.csv", "a") as csv:
        csv.write("not-a-number,bad\n")  # the id column is an integer column
    result, took = timed_run(dativo, job)
    assert result.returncode == 1, result.stderr
    assert "tap-csv failed with exit code 1" in result.stderr
    assert "not-a-number" in result.stderr
    assert took < GRACE + 15, f"took {took:.1f}s\n{result.stderr}"
    assert containers("dativo.state_id=acme/tap-dies") == []


def test_sigterm_ends_a_run_whose_container_ignores_it_within_the_grace_period(
    tmp_path,
    env,
    dativo,
    probe_image,  # noqa: F811
):
    job = probe_job(tmp_path, "stubborn", probe_image, {"ignore_sigterm": True})
    spec = yaml.safe_load(job.read_text())
    spec["source"]["config"] = {"records": 100, "sleep_after": 5, "sleep_seconds": 300}
    job.write_text(yaml.safe_dump(spec))
    run = subprocess.Popen(
        [DATIVO, "run", str(job), "--grace-seconds", str(GRACE)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: containers("dativo.state_id=acme/stubborn"))
        time.sleep(1.0)  # the probe has reported and ignores SIGTERM
        began = time.monotonic()
        run.send_signal(signal.SIGTERM)
        _, stderr = run.communicate(timeout=60)
        took = time.monotonic() - began
    finally:
        run.kill()
    assert run.returncode == 143, stderr
    assert took < GRACE + 8, f"took {took:.1f}s\n{stderr}"
    assert containers("dativo.state_id=acme/stubborn") == []
    assert runs(dativo)[0]["status"] == "interrupted"


def test_a_failing_container_ends_the_run_like_a_failing_process(tmp_path, dativo, probe_image):  # noqa: F811
    job = probe_job(tmp_path, "probe-fails", probe_image, {"exit_code": 5})
    spec = yaml.safe_load(job.read_text())
    spec["source"] = {"executable": FAKE_TAP, "config": {"records": 2_000_000}}
    job.write_text(yaml.safe_dump(spec))
    result, took = timed_run(dativo, job)
    assert result.returncode == 1, result.stderr
    assert "container_probe.py failed with exit code 5" in result.stderr
    assert took < GRACE + 15, f"took {took:.1f}s\n{result.stderr}"
    assert containers("dativo.state_id=acme/probe-fails") == []
