"""Entry point: parse arguments, call one command, map typed errors to exit codes."""

from __future__ import annotations

import argparse
import logging
import os
import sys

# dativo uses no pydantic plugin; looking for them scans every installed package's metadata
# at the first model (~20 ms of each run's start). A user's own setting wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
import importlib
from collections.abc import Sequence
from types import ModuleType

from dativo_connector_kit.console import exit_at_once
from dativo_ingest import __version__
from dativo_ingest.exceptions import DativoError
from dativo_ingest.logs import configure_logging, get_logger
from dativo_ingest.state.backends import STATE_URL_VARIABLE

log = get_logger("cli")

# command -> the module registering it (in `dativo --help` order). Only the invoked command's
# module is imported: each pulls in what its command needs (the registry, Temporal, ...).
COMMANDS = {
    "init": "init_cmd",
    "new": "new_cmd",
    "run": "run_cmd",
    "discover": "job_tools_cmd",
    "check": "job_tools_cmd",
    "contract": "contract_cmd",
    "state": "state_cmd",
    "runs": "runs_cmd",
    "logs": "logs_cmd",
    "connectors": "connectors_cmd",
    "install": "connectors_cmd",
    "add": "connectors_cmd",
    "build": "build_cmd",
    "ui": "ui_cmd",
    "submit": "submit_cmd",
    "worker": "worker_cmd",
    "schedule": "schedule_cmd",
    "server": "server_cmd",
}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``dativo`` parser. Given ``argv`` naming a command, only that command's module is
    imported and registered (the others are not needed to parse it); else (or without
    ``argv``) every command."""
    parser = argparse.ArgumentParser(
        prog="dativo",
        description="Run Singer connectors as isolated programs and keep their confirmed state.",
    )
    parser.add_argument("--version", action="version", version=f"dativo {__version__}")
    _add_global_options(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _command_modules(argv):
        module.register(commands)
    return parser


def _add_global_options(parser: argparse.ArgumentParser) -> None:
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


def _command_modules(argv: Sequence[str] | None) -> list[ModuleType]:
    """The modules registering the command ``argv`` names, or all of them."""
    named = None if argv is None else _invoked_command(argv)
    wanted = [COMMANDS[named]] if named in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    return [importlib.import_module(f"dativo_ingest.cli.{name}") for name in wanted]


def _invoked_command(argv: Sequence[str]) -> str | None:
    """The first argument that is neither a global option nor its value, read by a parser
    with the same global options (so abbreviations and ``--opt=value`` read the same)."""
    globals_only = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    _add_global_options(globals_only)
    try:
        _, rest = globals_only.parse_known_args(list(argv))
    except argparse.ArgumentError:  # a bad global option: the full parser reports it
        return None
    return next((arg for arg in rest if not arg.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command ``argv`` (default: the program's arguments); its exit code."""
    return _main(argv)[0]


def entry() -> None:
    """The ``dativo`` program. A command that sets ``skip_teardown`` is left without the
    interpreter's teardown once its output is flushed: `dativo run`, whose every run would pay
    for freeing each module and object (about a tenth of a 10-record run's CPU), and the
    Temporal commands, whose client leaves native threads that can abort the teardown
    (temporalio/sdk-python#300)."""
    code, skip_teardown = _main(None)
    if skip_teardown:
        logging.shutdown()
        exit_at_once(code)
    sys.exit(code)


def _main(argv: Sequence[str] | None) -> tuple[int, bool]:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    verbose = args.verbose or args.log_level is not None
    configure_logging(args.log_level or "INFO", args.log_format, verbose)
    if args.state_url:  # an environment variable, so the runs a worker starts use it too
        os.environ[STATE_URL_VARIABLE] = args.state_url
    return _call(args), getattr(args, "skip_teardown", False)


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
    entry()
