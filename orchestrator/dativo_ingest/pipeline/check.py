"""``dativo check``: each side's connection test, without moving data."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import orjson

from dativo_ingest.config import Connector, Job
from dativo_ingest.install.programs import program_for
from dativo_ingest.pipeline.stderr import TAIL_LINES
from dativo_ingest.pipeline.workdir import private_workdir, write_private
from dativo_ingest.registry import Capability

CHECK_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class CheckResult:
    side: str
    connector: str
    passed: bool | None  # None: the connector has no connection test
    detail: str


def check_connections(job: Job, home: Path) -> list[CheckResult]:
    """Run the connection test of both sides (singer-sdk ``--test``)."""
    with private_workdir(home) as workdir:
        return [
            _check(side, connector, job, home, workdir)
            for side, connector in (("source", job.source), ("target", job.target))
        ]


def _check(side: str, connector: Connector, job: Job, home: Path, workdir: Path) -> CheckResult:
    program = program_for(connector, side, home)
    if not program.supports(Capability.TEST):
        return CheckResult(side, program.name, None, "no connection test (capability `test`)")
    config = write_private(workdir / f"{side}-config.json", orjson.dumps(connector.config))
    try:
        result = subprocess.run(
            [*program.argv, "--config", str(config), "--test"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=CHECK_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        return CheckResult(side, program.name, False, f"timed out after {CHECK_TIMEOUT_SECONDS}s")
    lines = job.redact(result.stderr.decode(errors="replace")).strip().splitlines()
    if result.returncode == 0:
        return CheckResult(side, program.name, True, "connection test passed")
    tail = "\n".join(f"  {line}" for line in lines[-TAIL_LINES:])
    return CheckResult(side, program.name, False, f"exit code {result.returncode}\n{tail}")
