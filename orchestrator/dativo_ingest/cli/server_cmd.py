"""``dativo server``: Temporal's dev server on this machine, state under $DATIVO_HOME."""

from __future__ import annotations

import argparse

from dativo_ingest.state import dativo_home


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "server", help="start Temporal's one-machine dev server for `dativo worker`/`submit`"
    )
    parser.add_argument(
        "--ip", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    parser.add_argument("--port", type=int, default=7233, help="gRPC port (default: %(default)s)")
    parser.add_argument(
        "--ui-port", type=int, default=8233, help="web UI port (default: %(default)s)"
    )
    parser.add_argument("--headless", action="store_true", help="no web UI")
    parser.set_defaults(handler=start_server)


def start_server(args: argparse.Namespace) -> int:
    from dativo_ingest.workers.server import dev_server_argv, exec_dev_server

    home = dativo_home().resolve()
    home.mkdir(parents=True, exist_ok=True)
    argv = dev_server_argv(home, args.ip, args.port, None if args.headless else args.ui_port)
    print(f"Temporal: {args.ip}:{args.port}  (history in {home / 'temporal.db'})", flush=True)
    if not args.headless:
        print(f"Temporal UI: http://{args.ip}:{args.ui_port}", flush=True)
    exec_dev_server(argv)
    return 0
