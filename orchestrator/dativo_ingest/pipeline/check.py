"""``dativo check``: each side's connection test, without moving data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

from dativo_ingest.config import Connector, Job
from dativo_ingest.install.programs import program_for
from dativo_ingest.pipeline.stderr import TAIL_LINES, read_level
from dativo_ingest.pipeline.workdir import private_workdir, write_private
from dativo_ingest.protocol.adapters import adapter_for
from dativo_ingest.runtime import Launch, run_to_completion
from dativo_ingest.runtime.options import effective_runtime

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
    adapter = adapter_for(program.protocol)
    if not adapter.has_check(program.capabilities):
        return CheckResult(side, program.name, None, "no connection test (capability `test`)")
    config = write_private(workdir / f"{side}-config.json", orjson.dumps(connector.config))
    args = [str(arg) for arg in adapter.check_args(config)]
    runtime = effective_runtime(connector.runtime, job.definition.runtime, program.runtime)
    result = run_to_completion(program, args, Launch(runtime, workdir), CHECK_TIMEOUT_SECONDS)
    if result.timed_out:
        return CheckResult(side, program.name, False, f"timed out after {CHECK_TIMEOUT_SECONDS}s")
    passed, detail = adapter.check_outcome(result.returncode, result.stdout)
    lines = job.redact(result.stderr.decode(errors="replace")).strip().splitlines()
    if passed:  # with the connector's own message: its last unlevelled stderr line
        own = [line for line in lines if read_level(line)[0] is None]
        return CheckResult(side, program.name, True, detail + (f": {own[-1]}" if own else ""))
    if detail:
        lines.append(job.redact(detail))
    tail = "\n".join(f"  {line}" for line in lines[-TAIL_LINES:])
    return CheckResult(side, program.name, False, f"exit code {result.returncode}\n{tail}")
