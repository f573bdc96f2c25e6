"""Starting connectors: local processes, or containers behind the same interface."""

from __future__ import annotations

import importlib
import os
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from dativo_ingest.exceptions import ConfigurationError
from dativo_ingest.runtime.options import RuntimeOptions
from dativo_ingest.runtime.process import ConnectorProcess
from dativo_ingest.runtime.program import Program

Starter = Callable[..., ConnectorProcess]


def start_process(
    program: Program,
    args: Sequence[str | Path],
    options: RuntimeOptions,
    *,
    env: Mapping[str, str],
    stdin: int | None,
    workdir: Path,
    labels: Mapping[str, str],
) -> ConnectorProcess:
    """Start ``program`` as a local subprocess (``options`` has nothing to apply here)."""
    if not program.argv:
        raise ConfigurationError(
            f"{program.name} is available only as the Docker image {program.image}: "
            "run it with `runtime: {mode: docker}`"
        )
    return ConnectorProcess(program.name, [*program.argv, *args], stdin, env)


_RUNTIMES: dict[str, str] = {  # mode -> "module:function", imported on first use
    "subprocess": "dativo_ingest.runtime:start_process",
    "docker": "dativo_ingest.runtime.container:start_container",
}


_PREPARERS: dict[str, str] = {  # mode -> "module:function" doing slow work before any start
    "docker": "dativo_ingest.runtime.container:prepare_container",
}


def prepare_connector(program: Program, options: RuntimeOptions) -> None:
    """Do what starting ``program`` needs first and may take long (build an image)."""
    target = _PREPARERS.get(options.mode or "subprocess")
    if target is not None:
        module, _, function = target.partition(":")
        getattr(importlib.import_module(module), function)(program, options)


@dataclass(frozen=True)
class Launch:
    """How to start a connector for one command: its runtime options and the run's context."""

    options: RuntimeOptions
    workdir: Path
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    labels: Mapping[str, str] = field(default_factory=dict)


def run_to_completion(
    program: Program, args: Sequence[str | Path], launch: Launch, timeout: float | None = None
) -> Completed:
    """Run a one-off command of ``program`` (discover, check) in its runtime, with no input;
    return its exit code, stdout and stderr. After ``timeout`` seconds it is stopped."""
    prepare_connector(program, launch.options)
    process = start_connector(
        program,
        args,
        launch.options,
        env=launch.env,
        stdin=subprocess.DEVNULL,
        workdir=launch.workdir,
        labels=launch.labels,
    )
    captured: dict[str, bytes] = {}
    readers = [
        threading.Thread(target=lambda n=name, s=stream: captured.__setitem__(n, s.read()))
        for name, stream in (("out", process.stdout), ("err", process.stderr))
    ]
    for reader in readers:
        reader.start()
    waited = process.wait(timeout)
    timed_out = waited is None
    code = process.stop(0) if waited is None else waited
    for reader in readers:
        reader.join()
    process.kill_leftovers()
    return Completed(code, captured.get("out", b""), captured.get("err", b""), timed_out)


class Completed(NamedTuple):
    """What a one-off connector command left behind."""

    returncode: int
    stdout: bytes
    stderr: bytes
    timed_out: bool = False


def start_connector(
    program: Program, args: Sequence[str | Path], options: RuntimeOptions, **context: Any
) -> ConnectorProcess:
    """Start ``program`` with ``args`` in the runtime ``options.mode`` selects."""
    module, _, function = _RUNTIMES[options.mode or "subprocess"].partition(":")
    starter: Starter = getattr(importlib.import_module(module), function)
    return starter(program, args, options, **context)


__all__ = [
    "Completed",
    "ConnectorProcess",
    "Launch",
    "RuntimeOptions",
    "prepare_connector",
    "run_to_completion",
    "start_connector",
]
