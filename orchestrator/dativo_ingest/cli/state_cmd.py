"""``dativo state list|get|set|clear``.

``set`` and ``clear`` take the job's lock while they work, so they refuse to change the state
of a running job (which would write its own state back) unless ``--force`` is given.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from dativo_ingest.cli.project_args import current_project
from dativo_ingest.exceptions import ConfigurationError, JobLockedError
from dativo_ingest.logs import get_logger
from dativo_ingest.state import StateStore, open_store
from dativo_ingest.state.store import new_run_id

log = get_logger(__name__)
Action = Callable[[StateStore, argparse.Namespace], int]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("state", help="show or change stored job states")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="list stored states").set_defaults(handler=list_states)
    get = actions.add_parser("get", help="print a state as JSON")
    get.add_argument("state_id", help="<tenant_id>/<name>")
    get.set_defaults(handler=get_state)
    put = actions.add_parser("set", help="replace a state with the JSON in FILE (- for stdin)")
    put.add_argument("state_id")
    put.add_argument("file")
    clear = actions.add_parser("clear", help="delete a state: the next run starts from scratch")
    clear.add_argument("state_id")
    for changing, handler in ((put, set_state), (clear, clear_state)):
        changing.add_argument(
            "--force",
            action="store_true",
            help="change it even while the job runs (the run may write its own state back)",
        )
        changing.set_defaults(handler=handler)


def _with_store(action: Action) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        store = open_store(current_project(args).home)
        try:
            return action(store, args)
        finally:
            store.close()

    return handler


@contextmanager
def _job_stopped(store: StateStore, state_id: str, force: bool) -> Iterator[None]:
    """Hold ``state_id``'s lock, so no run of the job starts or runs meanwhile."""
    run_id = new_run_id()
    holder: str | None = run_id
    try:
        store.acquire_lock(state_id, run_id)
    except JobLockedError as exc:
        if not force:
            raise JobLockedError(f"{exc}; or give --force") from None
        log.warning("%s; changing its state anyway (--force)", exc)
        holder = None
    try:
        yield
    finally:
        if holder is not None:
            store.release_lock(state_id, holder)


def _warn_if_unknown(store: StateStore, state_id: str) -> None:
    if store.get_state(state_id) is None and not store.list_runs(1, state_id):
        log.warning(
            "no job with state id %r has run here (state ids are <tenant_id>/<name>; "
            "see `dativo state list` and `dativo runs`)",
            state_id,
        )


@_with_store
def list_states(store: StateStore, _: argparse.Namespace) -> int:
    rows = [("STATE ID", "SAVED AT", "BY RUN")]
    rows += [(s.state_id, s.updated_at, s.run_id or "-") for s in store.list_states()]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for state_id, saved, run in rows:
        print(f"{state_id.ljust(widths[0])}  {saved.ljust(widths[1])}  {run}")
    return 0


@_with_store
def get_state(store: StateStore, args: argparse.Namespace) -> int:
    stored = store.get_state(args.state_id)
    if stored is None:
        raise ConfigurationError(f"no state stored for {args.state_id!r} (see `dativo state list`)")
    sys.stdout.write(orjson.dumps(stored.value, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


@_with_store
def set_state(store: StateStore, args: argparse.Namespace) -> int:
    value = _read_state(args.file)
    _warn_if_unknown(store, args.state_id)
    with _job_stopped(store, args.state_id, args.force):
        previous = store.get_state(args.state_id)
        store.set_state(args.state_id, value)
    was = f" (was saved at {previous.updated_at})" if previous else " (none was stored)"
    print(f"state of {args.state_id} replaced{was}")
    return 0


@_with_store
def clear_state(store: StateStore, args: argparse.Namespace) -> int:
    with _job_stopped(store, args.state_id, args.force):
        if not store.clear_state(args.state_id):
            raise ConfigurationError(
                f"no state stored for {args.state_id!r} (see `dativo state list`)"
            )
    print(f"state of {args.state_id} cleared: its next run starts from scratch")
    return 0


def _read_state(file: str) -> dict[str, Any]:
    source = "standard input" if file == "-" else file
    try:
        raw = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
        value = orjson.loads(raw)
    except OSError as exc:
        raise ConfigurationError(f"cannot read {source}: {exc.strerror}") from None
    except orjson.JSONDecodeError as exc:
        raise ConfigurationError(f"{source} is not valid JSON: {exc}") from None
    if not isinstance(value, dict) or not value:
        raise ConfigurationError(f"{source}: a state must be a non-empty JSON object")
    return value
