"""Mapper connectors (`transforms:`) in Docker containers, on a real daemon, beside a tap and
a target run as local processes or containers, as each side's `runtime` says."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FAKE_TAP, FAKE_TARGET, PROGRAMS
from tests.test_docker_runtime import (  # noqa: F401 - fixtures
    PROBE,
    containers,
    docker_api,
    probe_image,
    program_image,
    runs,
    state,
    write,
)
from tests.test_run_signals import start, stored_value, wait_for

pytestmark = pytest.mark.timeout(900)
MAPPER = PROGRAMS / "fake_mapper.py"
MAPPER_DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY fake_mapper.py /fake_mapper.py
USER 65532:65532
ENTRYPOINT ["python3", "/fake_mapper.py"]
"""


@pytest.fixture(scope="session")
def mapper_image(docker_api, tmp_path_factory) -> str:  # noqa: F811
    """A tiny image FROM the base image running tests/programs/fake_mapper.py."""
    return program_image(docker_api, tmp_path_factory, "mapper", MAPPER, MAPPER_DOCKERFILE)


def mapper(image: str, **config: Any) -> dict[str, Any]:
    """A transforms: entry running the fake mapper in ``image``, its mode the job's."""
    return {"executable": str(MAPPER), "config": config, "runtime": {"image": image}}


def mapper_job(tmp_path: Path, name: str, source: dict, transforms: list, **sides: Any) -> Path:
    """A job in Docker mode whose tap (and, unless ``target`` is given, target) are local
    processes: only what names an image runs in a container."""
    local = {"runtime": {"mode": "subprocess"}}
    return write(
        tmp_path / f"{name}.yaml",
        {
            "name": name,
            "runtime": {"mode": "docker"},
            "source": {"executable": FAKE_TAP, "config": source, **local},
            "transforms": transforms,
            "target": sides.get("target") or {"executable": FAKE_TARGET, **local},
            **sides.get("job", {}),
        },
    )


def created(state_id: str, since: float) -> list[str]:
    """The connectors of the containers Docker created for ``state_id`` since ``since``."""
    query = ["--since", f"{since:.3f}", "--until", f"{time.time():.3f}"]
    query += ["--filter", "type=container", "--filter", "event=create"]
    query += ["--filter", f"label=dativo.state_id={state_id}"]
    events = subprocess.run(
        ["docker", "events", *query, "--format", '{{index .Actor.Attributes "dativo.connector"}}'],
        capture_output=True,
        text=True,
        check=True,
    )
    return events.stdout.split()


def test_mappers_in_containers_pipe_a_local_tap_into_a_container_target(
    tmp_path,
    dativo,
    home,
    mapper_image,
    probe_image,  # noqa: F811
):
    """Two mapper containers (a hop from FIFO to FIFO between them) between a local tap and
    the probe target's container; the state comes from the target's echo."""
    began = time.time()
    target = {"executable": str(PROBE), "runtime": {"image": probe_image}}
    job = mapper_job(
        tmp_path,
        "mapped",
        {"records": 5, "state_every": 2},
        [mapper(mapper_image), mapper(mapper_image)],
        target=target,
    )
    result = dativo("run", job, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "fake_tap.py -> fake_mapper.py -> fake_mapper.py -> container_probe.py" in (
        result.stderr
    )
    assert sorted(created("acme/mapped", began)) == [
        "container_probe.py",
        "fake_mapper.py",
        "fake_mapper.py",
    ]
    assert state(dativo, "acme/mapped") == {"bookmarks": {"items": {"last_id": 5}}}
    latest = runs(dativo)[0]
    assert latest["records"] == 5 and latest["states_saved"] == 3
    for side in ("transforms[0]", "transforms[1]"):
        figures = latest["resources"][side]
        assert figures["exit_code"] == 0 and figures["peak_rss_bytes"] > 1 << 20
    assert containers("dativo.state_id=acme/mapped") == []


@pytest.mark.parametrize("stop", ["docker kill the mapper", "SIGTERM to dativo"])
def test_a_mapper_container_killed_or_signalled_ends_the_run_and_leaves_nothing(
    tmp_path, env, home, dativo, mapper_image, stop
):
    """The mapper container is killed from outside (the run fails naming it), or dativo is
    stopped (exit 143): the states the target confirmed are kept, no container is left."""
    job = mapper_job(
        tmp_path,
        "job",
        {"records": 1000, "state_every": 10, "sleep_after": 55, "sleep_seconds": 120},
        [mapper(mapper_image)],
    )
    run = start(job, env)
    try:
        wait_for(lambda: stored_value(home) == {"bookmarks": {"items": {"last_id": 50}}})
        (running,) = containers("dativo.connector=fake_mapper.py")
        began = time.monotonic()
        if stop == "SIGTERM to dativo":
            run.send_signal(signal.SIGTERM)
        else:
            subprocess.run(["docker", "kill", running], capture_output=True, check=True)
        _, stderr = run.communicate(timeout=60)
        took = time.monotonic() - began
    finally:
        run.kill()
    if stop == "SIGTERM to dativo":
        assert run.returncode == 143, stderr
    else:
        assert run.returncode == 1, stderr
        assert "fake_mapper.py killed by SIGKILL; 5 state(s) confirmed by fake_target.py" in stderr
    assert took < 3 + 8, f"took {took:.1f}s\n{stderr}"
    assert stored_value(home) == {"bookmarks": {"items": {"last_id": 50}}}
    assert containers("dativo.state_id=acme/job") == []


def test_a_failing_mapper_container_is_named_with_its_stderr_tail(
    tmp_path, dativo, home, mapper_image
):
    job = mapper_job(
        tmp_path,
        "job",
        {"records": 50, "state_every": 100},
        [mapper(mapper_image), mapper(mapper_image, fail_after=20)],
    )
    result = dativo("run", job, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "fake_mapper.py failed with exit code 5; no new state was saved" in result.stderr
    assert "fake_mapper: cannot map record 20" in result.stderr
    assert stored_value(home) is None
    assert containers("dativo.state_id=acme/job") == []


def test_a_mapper_container_that_stops_reading_is_named_and_stopped(
    tmp_path, dativo, home, mapper_image
):
    """Behind a first mapper container, the second stops reading: the stall names it by
    position, it alone is stopped, and nothing is left."""
    job = mapper_job(
        tmp_path,
        "stalled",
        {"records": 200_000},
        [mapper(mapper_image), mapper(mapper_image, stop_reading_after=5)],
        job={"idle_timeout": "1s"},
    )
    began = time.monotonic()
    result = dativo("run", job, "--grace-seconds", "2", timeout=120)
    assert result.returncode == 1, result.stderr
    assert time.monotonic() - began < 25
    assert "fake_mapper.py (transforms[1]) stalled: it read no input for 1s" in result.stderr
    latest = runs(dativo)[0]
    assert [side for side, f in latest["resources"].items() if "stalled" in f] == ["transforms[1]"]
    assert containers("dativo.state_id=acme/stalled") == []
