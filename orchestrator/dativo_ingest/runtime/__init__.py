"""Starting connectors: local processes, or containers behind the same interface."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dativo_ingest.exceptions import ConfigurationError
from dativo_ingest.runtime.options import RuntimeOptions
from dativo_ingest.runtime.process import ConnectorProcess

if TYPE_CHECKING:  # runtime.program imports the registry, whose models import runtime.options
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
    "docker": "dativo_ingest.runtime.docker:start_container",
}


_PREPARERS: dict[str, str] = {  # mode -> "module:function" doing slow work before any start
    "docker": "dativo_ingest.runtime.docker:prepare_container",
}


def prepare_connector(program: Program, options: RuntimeOptions) -> None:
    """Do what starting ``program`` needs first and may take long (build an image)."""
    target = _PREPARERS.get(options.mode or "subprocess")
    if target is not None:
        module, _, function = target.partition(":")
        getattr(importlib.import_module(module), function)(program, options)


def start_connector(
    program: Program, args: Sequence[str | Path], options: RuntimeOptions, **context: Any
) -> ConnectorProcess:
    """Start ``program`` with ``args`` in the runtime ``options.mode`` selects."""
    module, _, function = _RUNTIMES[options.mode or "subprocess"].partition(":")
    starter: Starter = getattr(importlib.import_module(module), function)
    return starter(program, args, options, **context)


__all__ = ["ConnectorProcess", "RuntimeOptions", "prepare_connector", "start_connector"]
