"""``dativo state list|get|set|clear``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

from dativo_ingest.exceptions import ConfigurationError
from dativo_ingest.state import StateStore, open_store


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("state", help="show or change stored job states")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="list stored states").set_defaults(handler=list_states)
    get = actions.add_parser("get", help="print a state as JSON")
    get.add_argument("state_id", help="<tenant_id>/<name>")
    get.set_defaults(handler=get_state)
    put = actions.add_parser("set", help="replace a state with the JSON in FILE (- for stdin)")
    put.add_argument("state_id")
    put.add_argument("file")
    put.set_defaults(handler=set_state)
    clear = actions.add_parser("clear", help="delete a state: the next run starts from scratch")
    clear.add_argument("state_id")
    clear.set_defaults(handler=clear_state)


def _with_store(action):  # type: ignore[no-untyped-def]
    def handler(args: argparse.Namespace) -> int:
        store = open_store()
        try:
            return action(store, args)
        finally:
            store.close()

    return handler


@_with_store
def list_states(store: StateStore, _: argparse.Namespace) -> int:
    for state in store.list_states():
        print(f"{state.state_id}\t{state.updated_at}\t{state.run_id or '-'}")
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
    source = "standard input" if args.file == "-" else args.file
    try:
        raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
        value = orjson.loads(raw)
    except OSError as exc:
        raise ConfigurationError(f"cannot read {source}: {exc.strerror}") from None
    except orjson.JSONDecodeError as exc:
        raise ConfigurationError(f"{source} is not valid JSON: {exc}") from None
    if not isinstance(value, dict) or not value:
        raise ConfigurationError(f"{source}: a state must be a non-empty JSON object")
    store.set_state(args.state_id, value)
    return 0


@_with_store
def clear_state(store: StateStore, args: argparse.Namespace) -> int:
    if not store.clear_state(args.state_id):
        raise ConfigurationError(f"no state stored for {args.state_id!r}")
    return 0
