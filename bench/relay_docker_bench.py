"""Relay benchmark, docker mode: `dativo run` with both connectors in containers, beside the
subprocess run and the bare shell pipe.

Reuses bench/relay_bench.py (its data, programs, sections, timing, rotation and report); adds
the arm ``docker``: the same job with `runtime: {mode: docker}`, the replay tap and the counting
sink each in a small image built FROM dativo's base image (dativo/python-base:3.11, built by
debootstrap on first use) with orjson installed from a wheel built on the host. The stream
goes through FIFOs (runtime/container/stdio.py), not through the daemon. The docker arm's CPU
column adds to that of dativo and its `docker start --attach` clients the containers' CPU time
(from the run history) and the CPU time dockerd and containerd used during the run (they
create, start and remove the containers and carry their stderr; other work on the same
daemon at the same time is counted too).

With ``--baseline-dativo PATH`` the arm ``docker-base`` runs the docker job with another dativo
build (say, the commit before a change), alternated with the others.

Usage: .venv/bin/python bench/relay_docker_bench.py [--records 2000000] [--rounds 5]
           [--sections main,raw,fixed] [--baseline-dativo PATH] [--quick]
Results: bench/results/relay-docker.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from dativo_ingest.install.images import BASE_IMAGE, docker_build, ensure_base_image
from dativo_ingest.runtime.container.api import connect, image_exists
from dativo_ingest.runtime.container.spec import CONTAINER_UID

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling benchmark's folder
import relay_bench as rb

DAEMONS = {"dockerd", "containerd"}
DOCKER_RATIO_LIMIT = 1.3  # issue 11, point 4: docker mode within 1.3x of the bare pipe at 2M
IMAGE_DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${{BASE_IMAGE}}
COPY wheels /tmp/wheels
RUN python3 -m venv /opt/bench && /opt/bench/bin/pip install --no-cache-dir --no-index \\
    --disable-pip-version-check /tmp/wheels/*.whl && rm -rf /tmp/wheels
COPY {program} /{program}
USER {uid}:{uid}
ENTRYPOINT ["/opt/bench/bin/python", "/{program}"]
"""


def build_images() -> dict[str, str]:
    """``dativo-bench/<program>:<digest>`` for the replay tap and the counting sink."""
    api = connect()
    ensure_base_image(api)
    tags = {}
    with tempfile.TemporaryDirectory(prefix="dativo-bench-image-") as tmp:
        context = Path(tmp)
        wheels = context / "wheels"
        for role, program in (("tap", rb.TAP), ("sink", rb.SINK)):
            dockerfile = IMAGE_DOCKERFILE.format(program=program.name, uid=CONTAINER_UID)
            digest = hashlib.sha256(program.read_bytes() + dockerfile.encode()).hexdigest()[:12]
            tags[role] = tag = f"dativo-bench/{program.stem.replace('_', '-')}:{digest}"
            if image_exists(api, tag):
                continue
            if not wheels.exists():
                pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "wheel", "-q"]
                subprocess.run([*pip, "--wheel-dir", str(wheels), "orjson"], check=True)
            (context / program.name).write_bytes(program.read_bytes())
            (context / "Dockerfile").write_text(dockerfile)
            rb.log(f"building {tag} ...")
            docker_build(api, str(context), tag, BASE_IMAGE, {"dativo.bench": "relay"})
    return tags


def daemon_cpu_seconds() -> float:
    """CPU time used so far by the Docker daemon and containerd, which carry the stream."""
    total = 0.0
    for process in rb.psutil.process_iter(["name", "cpu_times"]):
        if process.info["name"] in DAEMONS and process.info["cpu_times"] is not None:
            total += process.info["cpu_times"].user + process.info["cpu_times"].system
    return total


class DockerArm(rb.DativoArm):
    """`dativo run job-<arm>.yaml --full-refresh`: both sides in containers."""

    def __init__(self, executable: str, images: dict[str, str], name: str = "docker") -> None:
        super().__init__(executable)
        self.images = images
        self.name = name

    def job(self, ws: rb.Workspace) -> Path:
        return ws.root / f"job-{self.name}.yaml"

    def prepare(self, ws: rb.Workspace) -> None:
        self.home(ws).mkdir()
        if os.geteuid() == 0:  # the sink writes its count file there as the containers' user
            os.chown(ws.root, CONTAINER_UID, CONTAINER_UID)
        mounts = [{"path": str(rb.DATA_DIR)}, {"path": str(ws.root), "writable": True}]
        sides = {
            "source": (rb.TAP, ws.tap_settings, self.images["tap"]),
            "target": (rb.SINK, ws.sink_settings, self.images["sink"]),
        }
        job = {"tenant_id": "bench", "name": f"relay-docker-{ws.profile}-{ws.records}"}
        job["runtime"] = {"mode": "docker", "network": "none", "mounts": mounts}
        for side, (program, settings, image) in sides.items():
            job[side] = {
                "executable": str(program),
                "config": settings,
                "runtime": {"image": image},
            }
        self.job(ws).write_text(json.dumps(job), encoding="utf-8")  # JSON is valid YAML

    def run(self, ws: rb.Workspace) -> rb.Measurement:
        daemons = daemon_cpu_seconds()
        measured = super().run(ws)
        daemons = daemon_cpu_seconds() - daemons
        latest = self.latest_run(self.env(ws))
        used = [
            (latest.get("resources") or {}).get(s, {}).get("cpu_s") for s in ("source", "target")
        ]
        if None in used:
            raise rb.BenchError(f"docker: no CPU figure for a container in {latest}")
        return replace(measured, cpu_s=measured.cpu_s + sum(used) + daemons)

    def latest_run(self, env: dict[str, str]) -> dict[str, object]:
        listed = subprocess.run(
            [self.executable, "runs", "--json", "--limit", "1"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        return json.loads(listed.stdout)[0]


def docker_targets(results: list[rb.SectionResult]) -> list[dict[str, object]]:
    """Issue 11's goal for docker mode on the main section, and the ratios beside it."""
    checks: list[dict[str, object]] = []

    def add(name: str, value: float | None, limit: float | None = None) -> None:
        ok = None if value is None or limit is None else value <= limit
        checks.append({"target": name, "value": value, "limit": limit, "ok": ok})

    for r in results:
        if r.name != "main" or "docker" not in r.arms:
            continue
        records = f"{r.records:,} records"
        add(f"docker/bare wall ratio, {records}", r.ratio("docker", "bare"), DOCKER_RATIO_LIMIT)
        add(f"docker/bare CPU ratio, {records} (reported)", r.ratio("docker", "bare", True))
        add(f"docker/dativo wall ratio, {records} (reported)", r.ratio("docker", "dativo"))
        if "docker-base" in r.arms:
            add(f"docker/docker-base wall ratio, {records}", r.ratio("docker", "docker-base"))
            ratio = r.ratio("docker", "docker-base", True)
            add(f"docker/docker-base CPU ratio, {records}", ratio)
    return checks


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2_000_000, help="main and raw size")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of main and raw")
    parser.add_argument("--fixed-rounds", type=int, default=9, help="rounds of the 10-record run")
    parser.add_argument("--warmup", type=int, default=1, help="uncounted rounds per section")
    parser.add_argument("--sections", default="main,raw,fixed", help="subset of main,raw,fixed")
    parser.add_argument(
        "--baseline-dativo",
        help="another dativo build (say, the commit before a change) for the arm docker-base",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny sizes, 2 rounds")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.records, args.rounds, args.fixed_rounds, args.warmup = 20_000, 2, 2, 0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    every = {
        "main": rb.Section("main", args.records, args.rounds),
        "raw": rb.Section("raw", args.records, args.rounds, "raw"),
        "fixed": rb.Section("fixed", 10, args.fixed_rounds),
    }
    sections = [every[name.strip()] for name in args.sections.split(",") if name.strip()]
    load_start = rb.load_average()
    try:
        dativo = rb.find_dativo(None)
        images = build_images()
        arms = [rb.BareArm(), rb.DativoArm(dativo), DockerArm(dativo, images)]
        if args.baseline_dativo:
            arms.append(DockerArm(rb.find_dativo(args.baseline_dativo), images, "docker-base"))
        results = [rb.run_section(s, arms, args.warmup) for s in sections]
    except rb.BenchError as exc:
        rb.log(f"relay_docker_bench: {exc}")
        return 2
    machine = {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": sys.platform}
    context: dict[str, object] = {
        "machine": machine,
        "load_average_1_5_15_min": {"start": load_start, "end": rb.load_average()},
        "docker": subprocess.run(
            ["docker", "version", "--format", "server {{.Server.Version}}"],
            capture_output=True,
            text=True,
        ).stdout.strip(),
    }
    report = rb.report_json if args.json else rb.render_table
    print(report(results, docker_targets(results), context))
    return 0


if __name__ == "__main__":
    sys.exit(main())
