"""The ``target-postgres`` command: parse arguments, run the target, map errors to exit codes."""

from __future__ import annotations

import argparse
import sys
import typing as t
from pathlib import Path

from dativo_connector_kit import ConfigurationError, exit_on_error
from target_postgres import __version__, about
from target_postgres.settings import load_settings

READ_BUFFER_BYTES = 1 << 20


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="target-postgres",
        description="Singer target: reads messages on stdin, loads each stream into a Postgres "
        "table, echoes STATE values once the records before them are committed.",
    )
    parser.add_argument(
        "--config",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="JSON config file; repeat to merge several, later ones winning",
    )
    parser.add_argument(
        "--input", type=Path, metavar="FILE", help="read messages from FILE instead of stdin"
    )
    parser.add_argument(
        "--about", action="store_true", help="describe the target and its settings, then exit"
    )
    parser.add_argument(
        "--format",
        choices=sorted(about.FORMATTERS),
        default="markdown",
        help="format of --about (default: markdown)",
    )
    parser.add_argument("--version", action="version", version=f"target-postgres {__version__}")
    return parser


def _open_input(path: Path | None) -> t.BinaryIO:
    """Open the message source with a big buffer (stdin's own 8 KiB one is slower)."""
    if path is None:
        return open(sys.stdin.fileno(), "rb", buffering=READ_BUFFER_BYTES, closefd=False)
    try:
        return path.open("rb", buffering=READ_BUFFER_BYTES)
    except OSError as exc:
        raise ConfigurationError(f"cannot read --input {path}: {exc.strerror}") from None


@exit_on_error("target-postgres")
def main(argv: list[str] | None = None) -> int:
    """Run the command; return its exit status (errors exit through ``exit_on_error``)."""
    args = _parser().parse_args(argv)
    if args.about:
        sys.stdout.write(about.render(args.format))
        return 0
    from target_postgres.loader import Loader  # psycopg: not imported for --about
    from target_postgres.target import Target

    settings = load_settings(args.config)
    try:
        with _open_input(args.input) as lines, Loader.connect(settings) as loader:
            target = Target(settings, loader, sys.stdout.buffer, sys.stderr)
            target.consume(lines)
    except KeyboardInterrupt:
        print("target-postgres: interrupted; the open batch was rolled back", file=sys.stderr)
        return 130
    print(f"target-postgres: {target.records_loaded} records loaded", file=sys.stderr)
    return 0
