"""Entry point: parse arguments, call one command, map typed errors to exit codes."""

from __future__ import annotations

import argparse
import os
import sys

# dativo uses no pydantic plugin; looking for them scans every installed package's metadata
# at the first model (~20 ms of each run's start). A user's own setting wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
from collections.abc import Sequence

from dativo_ingest import __version__
from dativo_ingest.cli import (
    build_cmd,
    connectors_cmd,
    contract_cmd,
    init_cmd,
    job_tools_cmd,
    logs_cmd,
    new_cmd,
    run_cmd,
    runs_cmd,
    schedule_cmd,
    server_cmd,
    state_cmd,
    submit_cmd,
    ui_cmd,
    worker_cmd,
)
from dativo_ingest.exceptions import DativoError
from dativo_ingest.logs import configure_logging, get_logger
from dativo_ingest.state.backends import STATE_URL_VARIABLE

log = get_logger("cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dativo",
        description="Run Singer connectors as isolated programs and keep their confirmed state.",
    )
    parser.add_argument("--version", action="version", version=f"dativo {__version__}")
    parser.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="default: INFO; given, it applies to the connectors' lines too (by default they "
        "show from WARNING, as -v shows them from INFO)",
    )
    parser.add_argument(
        "--environment",
        "-e",
        help="one of the `environments:` of dativo.yaml (default: $DATIVO_ENVIRONMENT, "
        "else its default_environment)",
    )
    parser.add_argument(
        "--log-format",
        default="text",
        choices=["text", "json"],
        help="json: one JSON object per line, for log shippers (default: text)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="also show the connectors' INFO lines (they are always in the run's log file)",
    )
    parser.add_argument(
        "--state-url",
        help="state store: postgresql://... (shared by workers) or sqlite:///path;"
        f" default ${STATE_URL_VARIABLE}, else SQLite under $DATIVO_HOME",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (
        init_cmd,
        new_cmd,
        run_cmd,
        job_tools_cmd,
        contract_cmd,
        state_cmd,
        runs_cmd,
        logs_cmd,
        connectors_cmd,
        build_cmd,
        ui_cmd,
        submit_cmd,
        worker_cmd,
        schedule_cmd,
        server_cmd,
    ):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    verbose = args.verbose or args.log_level is not None
    configure_logging(args.log_level or "INFO", args.log_format, verbose)
    if args.state_url:  # an environment variable, so the runs a worker starts use it too
        os.environ[STATE_URL_VARIABLE] = args.state_url
    code = _call(args)
    if getattr(args, "skip_teardown", False):
        # Temporal's client leaves native threads that can abort the interpreter's teardown
        # (temporalio/sdk-python#300): flush and leave without it.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _call(args: argparse.Namespace) -> int:
    try:
        return int(args.handler(args) or 0)
    except DativoError as exc:
        log.error("%s", exc)
        return exc.exit_code
    except BrokenPipeError:  # e.g. `dativo runs | head`
        sys.stderr.close()
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
