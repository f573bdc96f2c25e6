"""Connectors in Docker containers (`runtime: {mode: docker}`), on a real daemon.

The first run on a machine builds the base image (debootstrap, a few minutes) and the images
of tap-csv, target-jsonl, tap-postgres and target-postgres (about a minute each); later runs
reuse them until a connector's source changes. Hence the longer timeout of this module.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

from dativo_ingest.install.images import BASE_IMAGE, docker_build, ensure_base_image
from dativo_ingest.processes import process_start_time
from dativo_ingest.runtime import RuntimeOptions, start_connector
from dativo_ingest.runtime.container.api import DockerError, connect, image_exists
from dativo_ingest.runtime.container.spec import CONTAINER_UID
from dativo_ingest.runtime.program import Program
from tests.conftest import DATIVO, FAKE_TAP, PROGRAMS, server_settings

pytestmark = pytest.mark.timeout(900)
PROBE = PROGRAMS / "container_probe.py"
PROBE_DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY container_probe.py /probe.py
ENV AIRBYTE_ENTRYPOINT="python3 /probe.py --via-airbyte-entrypoint"
USER 65532:65532
ENTRYPOINT ["python3", "/probe.py"]
"""


@pytest.fixture(scope="session")
def docker_api(require_component):
    try:
        return connect()
    except DockerError as exc:
        require_component(False, f"Docker is not usable here: {exc}")


@pytest.fixture(scope="session")
def probe_image(docker_api, tmp_path_factory) -> str:
    """A tiny image FROM the base image running tests/programs/container_probe.py."""
    return program_image(docker_api, tmp_path_factory, "probe", PROBE, PROBE_DOCKERFILE)


def program_image(docker_api, tmp_path_factory, name: str, program: Path, dockerfile: str) -> str:
    """The image ``dativo-test/<name>`` built FROM the base image by ``dockerfile``, which
    copies ``program`` (a test program) in; tagged by their digest, so it is built once and
    rebuilt (the older one removed) only when either changes."""
    digest = hashlib.sha256(program.read_bytes() + dockerfile.encode()).hexdigest()[:12]
    tag = f"dativo-test/{name}:{digest}"
    if not image_exists(docker_api, tag):
        ensure_base_image(docker_api)
        context = tmp_path_factory.mktemp(f"{name}-image")
        shutil.copy(program, context / program.name)
        (context / "Dockerfile").write_text(dockerfile)
        docker_build(docker_api, str(context), tag, BASE_IMAGE, {"dativo.test": name})
    for old in docker_api.images(filters={"label": f"dativo.test={name}"}):
        if tag not in (old.get("RepoTags") or []):
            docker_api.remove_image(old["Id"], force=True)
    return tag


def containers(label: str) -> list[str]:
    """Ids of every container, running or not, with ``label`` (``key=value``)."""
    result = subprocess.run(
        ["docker", "ps", "--all", "--quiet", "--filter", f"label={label}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.split()


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def container_writable(path: Path) -> Path:
    """A folder the containers' user can write: under root they run as CONTAINER_UID."""
    path.mkdir(parents=True)
    if os.geteuid() == 0:
        os.chown(path, CONTAINER_UID, CONTAINER_UID)
    return path


def write(path: Path, job: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump({"tenant_id": "acme", **job}))
    return path


def probe_job(tmp_path: Path, name: str, image: str, config: dict, **runtime: Any) -> Path:
    """The fake tap (a local process) into the probe target in a container."""
    return write(
        tmp_path / f"{name}.yaml",
        {
            "name": name,
            "source": {"executable": FAKE_TAP, "config": {"records": 5, "state_every": 2}},
            "target": {
                "executable": str(PROBE),
                "config": config,
                "runtime": {"mode": "docker", "image": image, **runtime},
            },
        },
    )


def probe_report(stderr: str) -> dict[str, Any]:
    found = re.search(r"probe: (\{.*\})$", stderr, re.MULTILINE)
    assert found, stderr
    return json.loads(found.group(1))


def runs(dativo) -> list[dict[str, Any]]:
    listed = dativo("runs", "--json")
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)


def state(dativo, state_id: str) -> Any:
    shown = dativo("state", "get", state_id)
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def jsonl_by_stream(folder: Path) -> dict[str, bytes]:
    """Each stream's records: its files' bytes in name order (names carry the run's time)."""
    found: dict[str, bytes] = {}
    for file in sorted(folder.glob("*.jsonl")):
        stream = file.name.rsplit("-", 2)[0]
        found[stream] = found.get(stream, b"") + file.read_bytes()
    return found


def test_csv_to_jsonl_in_containers_matches_the_subprocess_run(
    tmp_path, dativo, docker_api, connector_exe
):
    connector_exe("tap-csv"), connector_exe("target-jsonl")
    data = tmp_path / "data"
    data.mkdir()
    (data / "customers.csv").write_text('id,name,since\n1,alice,2024-01-02\n2,"b, ob",2023-05-06\n')
    (data / "orders.csv").write_text("id,customer,amount\n10,1,5.5\n11,2,7\n12,1,0.25\n")
    files = [
        {"entity": "customers", "path": str(data / "customers.csv"), "keys": ["id"]},
        {"entity": "orders", "path": str(data / "orders.csv"), "keys": ["id"]},
    ]
    outputs = {}
    for mode in ("subprocess", "docker"):
        out = container_writable(tmp_path / f"out-{mode}")
        mounts = [{"path": str(data)}, {"path": str(out), "writable": True}]
        job = {
            "name": f"csv-{mode}",
            "runtime": {"mode": mode, **({"mounts": mounts} if mode == "docker" else {})},
            "source": {"connector": "tap-csv", "config": {"files": files}},
            "target": {"connector": "target-jsonl", "config": {"destination_path": str(out)}},
        }
        for _ in range(2):  # the second run is handed the first one's state
            run = dativo("run", write(tmp_path / f"{mode}.yaml", job), timeout=600)
            assert run.returncode == 0, run.stderr
        outputs[mode] = jsonl_by_stream(out)

    assert outputs["docker"] == outputs["subprocess"]
    assert set(outputs["docker"]) == {"customers", "orders"}
    assert outputs["docker"]["orders"].count(b"\n") == 6
    assert state(dativo, "acme/csv-docker") == state(dativo, "acme/csv-subprocess")
    assert containers("dativo.state_id=acme/csv-docker") == []
    latest = runs(dativo)[0]
    assert latest["state_id"] == "acme/csv-docker" and latest["status"] == "succeeded"
    for side in ("source", "target"):
        assert latest["resources"][side]["peak_rss_bytes"] > 1 << 20
        assert latest["resources"][side]["cpu_s"] > 0


def test_postgres_to_postgres_in_containers_matches_the_subprocess_run(
    tmp_path, dativo, docker_api, connector_exe, pg_dsn, pg_schema
):
    import psycopg

    connector_exe("tap-postgres"), connector_exe("target-postgres")
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(
            f'CREATE TABLE "{pg_schema}".items (id int PRIMARY KEY, name text, amount numeric,'
            " seen timestamptz)"
        )
        conn.execute(
            f'INSERT INTO "{pg_schema}".items SELECT i, $$n$$ || i, i * 1.5,'
            " timestamptz '2024-01-01 00:00:00+00' + i * interval '1 hour'"
            " FROM generate_series(1, 200) i"
        )
    server = server_settings(pg_dsn)
    stream = f"{pg_schema}-items"
    targets = {mode: f"{pg_schema}_{mode[:3]}" for mode in ("subprocess", "docker")}
    try:
        for mode, schema in targets.items():
            job = {
                "name": f"pg-{mode}",
                # 127.0.0.1 inside a bridged container is the container: use the host's network
                "runtime": {"mode": mode, **({"network": "host"} if mode == "docker" else {})},
                "source": {
                    "connector": "tap-postgres",
                    "config": {
                        **server,
                        "filter_schemas": [pg_schema],
                        "emit_activate_version_messages": False,
                    },
                    "select": [f"{stream}.*"],
                    "metadata": {stream: {"replication-key": "id"}},
                },
                "target": {
                    "connector": "target-postgres",
                    "config": {
                        **server,
                        "default_target_schema": schema,
                        "add_record_metadata": False,
                        "activate_version": False,
                    },
                },
            }
            run = dativo("run", write(tmp_path / f"{mode}.yaml", job), timeout=600)
            assert run.returncode == 0, run.stderr
        with psycopg.connect(pg_dsn) as conn:
            rows = {
                mode: conn.execute(f'SELECT * FROM "{schema}".items ORDER BY id').fetchall()
                for mode, schema in targets.items()
            }
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            for schema in targets.values():
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    assert len(rows["docker"]) == 200
    assert rows["docker"] == rows["subprocess"]
    assert state(dativo, "acme/pg-docker") == state(dativo, "acme/pg-subprocess")
    assert containers("dativo.state_id=acme/pg-docker") == []


def test_container_is_isolated_limited_and_measured(tmp_path, dativo, env, probe_image):
    env["HOST_ONLY_SECRET"] = "s3cret"
    job = probe_job(tmp_path, "isolated", probe_image, {"allocate_mb": 100, "burn_cpu_seconds": 1})
    run = dativo("-v", "run", job, env=env)  # -v: the probe's report is a connector INFO line
    assert run.returncode == 0, run.stderr
    report = probe_report(run.stderr)
    owner = (CONTAINER_UID,) * 2 if os.geteuid() == 0 else (os.geteuid(), os.getegid())
    assert (report["uid"], report["gid"]) == owner  # not root
    assert report["NoNewPrivs"] == "1"
    assert int(report["CapEff"], 16) == 0
    assert report["root_writable"] is False and report["tmp_writable"] is True
    # stdin and stdout are the FIFOs of its own folder, read-only: the stream skips the daemon
    assert report["stdio"] == ["/dativo-stdio/in", "/dativo-stdio/out"]
    assert report["stdio_folder"] == ["in", "out"] and report["stdio_writable"] is False
    assert report["config"]["allocate_mb"] == 100  # read from the run's private folder
    assert report["argv"] == ["--config", "/dativo/target-config.json"]  # the run's folder
    assert "HOST_ONLY_SECRET" not in report["env"] and "DATIVO_TENANT_ID" in report["env"]
    target = runs(dativo)[0]["resources"]["target"]
    assert target["peak_rss_bytes"] >= 100 << 20
    assert target["cpu_s"] >= 0.9
    assert state(dativo, "acme/isolated") == {"bookmarks": {"items": {"last_id": 5}}}


def test_target_over_its_memory_limit_is_reported_out_of_memory(tmp_path, dativo, probe_image):
    job = probe_job(tmp_path, "oom", probe_image, {"allocate_mb": 200}, memory="64m")
    run = dativo("run", job)
    assert run.returncode == 1
    assert "container_probe.py was killed: out of memory (limit 64m)" in run.stderr
    latest = runs(dativo)[0]
    assert latest["status"] == "failed" and latest["target_exit"] == 137
    assert "out of memory" in latest["resources"]["target"]["exit_reason"]
    assert latest["resources"]["target"]["peak_rss_bytes"] >= 64 << 20
    assert containers("dativo.state_id=acme/oom") == []


def test_network_none_cannot_open_a_socket(tmp_path, dativo, probe_image, pg_dsn):
    gateway = "172.17.0.1"  # the default bridge's gateway: the host, seen from a container
    config = {"connect": [["127.0.0.1", 5432], [gateway, 5432]]}
    outcomes = {}
    for network in ("none", "host"):
        job = probe_job(tmp_path, f"net-{network}", probe_image, config, network=network)
        run = dativo("-v", "run", job)  # -v: the probe's report is a connector INFO line
        assert run.returncode == 0, run.stderr
        outcomes[network] = probe_report(run.stderr)["connect"]
    assert outcomes["host"]["127.0.0.1:5432"] == "ok"  # the host's Postgres: the probe works
    assert outcomes["none"]["127.0.0.1:5432"].startswith("failed: [Errno 111]")  # own loopback
    assert outcomes["none"][f"{gateway}:5432"].startswith("failed: [Errno 101]")  # no route


def test_sigterm_stops_the_container_and_keeps_confirmed_state(tmp_path, env, dativo, probe_image):
    job = probe_job(tmp_path, "job", probe_image, {})
    config = {"records": 1000, "state_every": 10, "sleep_after": 55, "sleep_seconds": 120}
    spec = yaml.safe_load(job.read_text())
    spec["source"]["config"] = config
    job.write_text(yaml.safe_dump(spec))
    run = subprocess.Popen(
        [DATIVO, "run", str(job), "--grace-seconds", "5"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: state_or_none(dativo) == {"bookmarks": {"items": {"last_id": 50}}})
        run.send_signal(signal.SIGTERM)
        _, stderr = run.communicate(timeout=30)
    finally:
        run.kill()
    assert run.returncode == 143, stderr
    assert state(dativo, "acme/job") == {"bookmarks": {"items": {"last_id": 50}}}
    assert containers("dativo.state_id=acme/job") == []


def state_or_none(dativo) -> Any:
    shown = dativo("state", "get", "acme/job")
    return json.loads(shown.stdout) if shown.returncode == 0 else None


def test_sigkill_of_dativo_leaves_no_container(tmp_path, env, probe_image):
    job = probe_job(tmp_path, "killed", probe_image, {})
    spec = yaml.safe_load(job.read_text())
    spec["source"]["config"] = {"records": 100, "sleep_after": 5, "sleep_seconds": 120}
    job.write_text(yaml.safe_dump(spec))
    run = subprocess.Popen(
        [DATIVO, "run", str(job)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        running = wait_for(
            lambda: subprocess.run(
                ["docker", "ps", "-q", "--filter", "label=dativo.state_id=acme/killed"],
                capture_output=True,
                text=True,
            ).stdout.split()
        )
        mounts = json.loads(
            subprocess.run(
                ["docker", "inspect", "--format", "{{json .Mounts}}", running[0]],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
    finally:
        run.kill()
        run.wait()
    assert len(running) == 1
    (stdio,) = [Path(m["Source"]) for m in mounts if m["Destination"] == "/dativo-stdio"]
    wait_for(lambda: containers("dativo.state_id=acme/killed") == [], timeout=20)
    wait_for(lambda: not stdio.exists(), timeout=20)  # the FIFOs' folder, removed by the reaper


def test_a_run_removes_containers_left_by_a_dativo_that_died(tmp_path, dativo, probe_image):
    gone = psutil.Popen(["true"])  # its pid is that of a process that has exited
    gone.wait()
    owners = {
        "orphan": (gone.pid, 0.0),
        "alive": (os.getpid(), process_start_time(os.getpid())),
    }
    created = {}
    for name, (pid, started) in owners.items():
        labels = {
            "dativo.managed": "true",
            "dativo.host": socket.gethostname(),
            "dativo.pid": str(pid),
            "dativo.pid_started": str(started),
            "dativo.state_id": f"acme/{name}",
        }
        flags = [part for key, value in labels.items() for part in ("--label", f"{key}={value}")]
        created[name] = subprocess.run(
            ["docker", "create", *flags, probe_image], capture_output=True, text=True, check=True
        ).stdout.strip()
    try:
        run = dativo("run", probe_job(tmp_path, "sweeper", probe_image, {}))
        assert run.returncode == 0, run.stderr
        assert "removed 1 container(s) left by a dativo that died" in run.stderr
        assert containers("dativo.state_id=acme/orphan") == []
        assert containers("dativo.state_id=acme/alive") == [created["alive"][:12]]
    finally:
        subprocess.run(["docker", "rm", "--force", *created.values()], capture_output=True)


def test_airbyte_image_runs_its_entrypoint_with_files_under_airbyte(tmp_path, probe_image):
    workdir = tmp_path / "run"
    workdir.mkdir(mode=0o700)
    config = workdir / "source-config.json"
    config.write_text(json.dumps({"api_key": "k"}))
    program = Program(
        "source-probe",
        (),
        frozenset(),
        probe_image,
        protocol="airbyte",
        image=probe_image,
        container_argv=("source-probe",),
    )
    process = start_connector(
        program,
        ["check", "--config", config],
        RuntimeOptions(mode="docker", network="none"),
        env={"DATIVO_TENANT_ID": "acme"},
        stdin=subprocess.DEVNULL,
        workdir=workdir,
        labels={"dativo.state_id": "acme/airbyte"},
    )
    with process.stdout, process.stderr:
        _, stderr = process.stdout.read(), process.stderr.read()
    assert process.wait(30) == 0, stderr
    process.kill_leftovers()
    report = probe_report(stderr.decode())
    assert report["argv"] == [
        "--via-airbyte-entrypoint",
        "check",
        "--config",
        "/airbyte/source-config.json",
    ]
    assert report["config"] == {"api_key": "k"}
    assert containers("dativo.state_id=acme/airbyte") == []


def test_build_reuses_an_image_of_the_same_source(dativo, docker_api):
    first = dativo("build", "target-jsonl", timeout=600)
    assert first.returncode == 0, first.stderr
    again = dativo("build", "target-jsonl")
    assert again.returncode == 0, again.stderr
    tag = again.stdout.strip().rsplit(" ", 1)[-1]
    assert re.fullmatch(r"dativo/target-jsonl:\d+\.\d+\.\d+\S*", tag)
    assert "building" not in again.stderr
    labels = docker_api.inspect_image(tag)["Config"]["Labels"]
    assert labels["dativo.connector"] == "target-jsonl"


def test_a_program_missing_from_its_image_fails_with_the_reason(tmp_path, probe_image):
    workdir = tmp_path / "run"
    workdir.mkdir(mode=0o700)
    program = Program(
        "missing", (), frozenset(), probe_image, image=probe_image, container_argv=("no-such",)
    )
    process = start_connector(
        program,
        [],
        RuntimeOptions(mode="docker"),
        env={},
        stdin=subprocess.DEVNULL,
        workdir=workdir,
        labels={"dativo.state_id": "acme/missing"},
    )
    process.monitor()
    with process.stdout, process.stderr:
        stderr = process.stderr.read().decode()
    assert process.wait(30) == 127
    assert "exec: no-such: not found" in stderr
    peak = process.resources().peak_rss_bytes
    assert peak is None or peak < 64 << 20  # the container's figure, never the host's
    assert containers("dativo.state_id=acme/missing") == []


CMD_DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
USER 65532:65532
CMD ["python3", "-c", "import sys; sys.stdout.write(sys.stdin.read().upper())"]
"""


def test_an_image_run_without_arguments_runs_its_cmd_on_the_fifos(tmp_path, docker_api):
    """The stdio wrapper keeps Docker's rule: no entrypoint and no arguments run the CMD."""
    tag = f"dativo-test/cmd:{hashlib.sha256(CMD_DOCKERFILE.encode()).hexdigest()[:12]}"
    if not image_exists(docker_api, tag):
        ensure_base_image(docker_api)
        (tmp_path / "Dockerfile").write_text(CMD_DOCKERFILE)
        docker_build(docker_api, str(tmp_path), tag, BASE_IMAGE, {"dativo.test": "cmd"})
    workdir = tmp_path / "run"
    workdir.mkdir(mode=0o700)
    process = start_connector(
        Program("cmd", (), frozenset(), tag, image=tag),
        [],
        RuntimeOptions(mode="docker", network="none"),
        env={},
        stdin=None,
        workdir=workdir,
        labels={"dativo.state_id": "acme/cmd"},
    )
    with process.stdin:
        process.stdin.write(b"through the fifos\n")
    with process.stdout, process.stderr:
        out, err = process.stdout.read(), process.stderr.read()
    assert process.wait(30) == 0, err
    process.kill_leftovers()
    assert out == b"THROUGH THE FIFOS\n"
    assert containers("dativo.state_id=acme/cmd") == []


AIRBYTE_SOURCE = PROGRAMS / "fake_airbyte_source.py"
AIRBYTE_DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY fake_airbyte_source.py /source.py
ENV AIRBYTE_ENTRYPOINT="python3 /source.py"
USER 65532:65532
ENTRYPOINT ["python3", "/source.py"]
"""


@pytest.fixture(scope="session")
def airbyte_source_image(docker_api, tmp_path_factory) -> str:
    """An Airbyte source that exists only as an image (tests/programs/fake_airbyte_source.py)."""
    source = AIRBYTE_SOURCE.read_bytes() + AIRBYTE_DOCKERFILE.encode()
    tag = f"dativo-test/airbyte-source:{hashlib.sha256(source).hexdigest()[:12]}"
    if not image_exists(docker_api, tag):
        ensure_base_image(docker_api)
        context = tmp_path_factory.mktemp("airbyte-image")
        shutil.copy(AIRBYTE_SOURCE, context / "fake_airbyte_source.py")
        (context / "Dockerfile").write_text(AIRBYTE_DOCKERFILE)
        docker_build(docker_api, str(context), tag, BASE_IMAGE, {"dativo.test": "airbyte-source"})
    return tag


def test_image_only_airbyte_source_discovers_checks_and_runs_in_its_container(
    tmp_path, dativo, airbyte_source_image
):
    (tmp_path / "registry.yaml").write_text(f"""
connectors:
  - {{name: source-fake, variant: image, type: source, engine: airbyte, protocol: airbyte,
     docker_image: "{airbyte_source_image}", capabilities: [catalog, discover, state, test],
     runtime: {{mode: docker, network: none}}}}
""")
    out = tmp_path / "out"
    job = tmp_path / "job.yaml"
    job.write_text(
        yaml.safe_dump(
            {
                "tenant_id": "acme",
                "name": "image",
                "source": {
                    "connector": "source-fake",
                    "config": {"streams": ["a", "b"], "records": 3},
                },
                "target": {"connector": "target-jsonl", "config": {"destination_path": str(out)}},
            }
        )
    )
    check = dativo("check", job)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "PASS  source source-fake" in check.stdout
    result = dativo("run", job)
    assert result.returncode == 0, result.stderr
    assert "discovering the streams of source-fake" in result.stderr
    landed = sorted(
        json.loads(line)["id"]
        for file in out.glob("a*.jsonl")
        for line in file.read_text().splitlines()
    )
    assert landed == [1, 2, 3]
    assert containers("dativo.state_id=acme/image") == []
