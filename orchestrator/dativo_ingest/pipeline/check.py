"""``dativo check``: each side's connection test, without moving data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from dativo_ingest.config import Connector, Job
from dativo_ingest.install.programs import program_for
from dativo_ingest.pipeline.stderr import TAIL_LINES, read_level
from dativo_ingest.pipeline.workdir import private_workdir, write_private
from dativo_ingest.registry import Capability
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
    if program.protocol != "airbyte" and not program.supports(Capability.TEST):
        return CheckResult(side, program.name, None, "no connection test (capability `test`)")
    config = write_private(workdir / f"{side}-config.json", orjson.dumps(connector.config))
    airbyte = program.protocol == "airbyte"
    args = ["check", "--config", str(config)] if airbyte else ["--config", str(config), "--test"]
    runtime = effective_runtime(connector.runtime, job.spec.runtime, program.runtime)
    result = run_to_completion(program, args, Launch(runtime, workdir), CHECK_TIMEOUT_SECONDS)
    if result.timed_out:
        return CheckResult(side, program.name, False, f"timed out after {CHECK_TIMEOUT_SECONDS}s")
    lines = job.redact(result.stderr.decode(errors="replace")).strip().splitlines()
    if airbyte:
        status = _airbyte_status(result.stdout)
        if result.returncode == 0 and status.get("status") == "SUCCEEDED":
            return CheckResult(side, program.name, True, "connection check succeeded")
        lines.append(job.redact(str(status.get("message") or "no CONNECTION_STATUS")))
    elif result.returncode == 0:  # with the connector's own message: its last unlevelled line
        own = [line for line in lines if read_level(line)[0] is None]
        detail = "connection test passed" + (f": {own[-1]}" if own else "")
        return CheckResult(side, program.name, True, detail)
    tail = "\n".join(f"  {line}" for line in lines[-TAIL_LINES:])
    return CheckResult(side, program.name, False, f"exit code {result.returncode}\n{tail}")


def _airbyte_status(output: bytes) -> dict[str, Any]:
    """The ``connectionStatus`` of an Airbyte ``check``, or the message of its TRACE error."""
    status: dict[str, Any] = {}
    for line in output.splitlines():
        if not line.startswith(b"{"):
            continue
        message = orjson.loads(line)
        if message.get("type") == "CONNECTION_STATUS":
            return message.get("connectionStatus") or {}
        if message.get("type") == "TRACE" and (message.get("trace") or {}).get("type") == "ERROR":
            error = message["trace"].get("error") or {}
            status = {"message": f"{error.get('message')} ({error.get('internal_message')})"}
    return status
