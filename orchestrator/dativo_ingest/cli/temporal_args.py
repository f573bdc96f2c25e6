"""Options shared by the commands that talk to Temporal, and running their coroutines."""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Coroutine
from typing import Any

from dativo_ingest.exceptions import ConfigurationError
from dativo_ingest.workers.submission import (
    DEFAULT_ADDRESS,
    DEFAULT_NAMESPACE,
    DEFAULT_TASK_QUEUE,
)


def add_temporal_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--temporal",
        default=DEFAULT_ADDRESS,
        metavar="HOST:PORT",
        help="Temporal frontend (default: %(default)s, where `dativo server` listens)",
    )
    parser.add_argument("--namespace", default=DEFAULT_NAMESPACE, help="default: %(default)s")
    parser.add_argument("--task-queue", default=DEFAULT_TASK_QUEUE, help="default: %(default)s")
    parser.set_defaults(skip_teardown=True)


def temporal_from(args: argparse.Namespace) -> Any:
    """The Temporal location the options name (needs the ``temporal`` extra)."""
    require_temporal()
    from dativo_ingest.workers.client import Temporal

    return Temporal(args.temporal, args.namespace, args.task_queue)


def require_temporal() -> None:
    if importlib.util.find_spec("temporalio") is None:
        raise ConfigurationError(
            "this command needs Temporal's SDK: pip install 'dativo-ingest[temporal]'"
        )


def run(coroutine: Coroutine[Any, Any, int]) -> int:
    import asyncio  # not at the top: `dativo run` loads this module but needs no event loop

    return asyncio.run(coroutine)
