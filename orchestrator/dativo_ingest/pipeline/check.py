"""``dativo check``: each side's connection test, and each mapper started on an empty stream,
without moving data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

from dativo_ingest.config import Connector, Job
from dativo_ingest.install.programs import program_for
from dativo_ingest.pipeline.stderr import TAIL_LINES, read_level
from dativo_ingest.pipeline.workdir import private_workdir, write_private
from dativo_ingest.protocol.adapters import Args, adapter_for
from dativo_ingest.runtime import Completed, Launch, run_to_completion
from dativo_ingest.runtime.options import effective_runtime
from dativo_ingest.runtime.program import Program

CHECK_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class CheckResult:
    side: str
    connector: str
    passed: bool | None  # None: the connector has no connection test
    detail: str


def check_connections(job: Job, home: Path) -> list[CheckResult]:
    """Run the connection test of both sides (singer-sdk ``--test``); start each mapper of
    ``transforms`` with its config on an empty stream."""
    with private_workdir(home) as workdir:
        return [
            _check(side, connector, job, home, workdir)
            for side, connector in (("source", job.source), ("target", job.target))
        ] + [_check_mapper(mapper, job, home, workdir) for mapper in job.transforms]


def _check(side: str, connector: Connector, job: Job, home: Path, workdir: Path) -> CheckResult:
    program = program_for(connector, side, home)
    adapter = adapter_for(program.protocol)
    if not adapter.has_check(program.capabilities):
        return CheckResult(side, program.name, None, "no connection test (capability `test`)")
    config = write_private(workdir / f"{side}-config.json", orjson.dumps(connector.config))
    result = _run(program, adapter.check_args(config), connector, job, workdir)
    if result.timed_out:
        return CheckResult(side, program.name, False, f"timed out after {CHECK_TIMEOUT_SECONDS}s")
    passed, detail = adapter.check_outcome(result.returncode, result.stdout)
    return _result(side, program.name, job, result, passed, detail)


def _check_mapper(connector: Connector, job: Job, home: Path, workdir: Path) -> CheckResult:
    """A mapper has no connection test: it is installed, its config checked against its
    settings, and it is started with that config on an empty stream, which must end in 0."""
    program = program_for(connector, "mapper", home)
    config = write_private(workdir / "mapper-config.json", orjson.dumps(connector.config))
    adapter = adapter_for("singer")
    result = _run(program, adapter.write_args(config, None), connector, job, workdir)
    if result.timed_out:
        message = f"did not end within {CHECK_TIMEOUT_SECONDS}s on an empty stream"
        return CheckResult(connector.key, program.name, False, message)
    passed = result.returncode == 0
    detail = "started on an empty stream" if passed else ""
    return _result(connector.key, program.name, job, result, passed, detail)


def _run(program: Program, args: Args, connector: Connector, job: Job, workdir: Path) -> Completed:
    runtime = effective_runtime(connector.runtime, job.definition.runtime, program.runtime)
    argv = [str(arg) for arg in args]
    return run_to_completion(program, argv, Launch(runtime, workdir), CHECK_TIMEOUT_SECONDS)


def _result(
    side: str, name: str, job: Job, result: Completed, passed: bool, detail: str
) -> CheckResult:
    """``result`` as a CheckResult: passed with the connector's own last message, or failed
    with its exit code and stderr tail."""
    lines = job.redact(result.stderr.decode(errors="replace")).strip().splitlines()
    if passed:  # with the connector's own message: its last unlevelled stderr line
        own = [line for line in lines if read_level(line)[0] is None]
        return CheckResult(side, name, True, detail + (f": {own[-1]}" if own else ""))
    if detail:
        lines.append(job.redact(detail))
    tail = "\n".join(f"  {line}" for line in lines[-TAIL_LINES:])
    return CheckResult(side, name, False, f"exit code {result.returncode}\n{tail}")
