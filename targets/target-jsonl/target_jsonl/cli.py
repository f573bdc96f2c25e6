"""The ``target-jsonl`` command: parse arguments, run the target, map errors to exit statuses."""

from __future__ import annotations

import argparse
import sys
import typing as t
from pathlib import Path

from dativo_connector_kit import ConnectorError, exit_on_error
from target_jsonl import __version__, about
from target_jsonl.destination import Destination
from target_jsonl.settings import load_settings
from target_jsonl.target import Target

PROGRAM = "target-jsonl"
READ_BUFFER_BYTES = 1 << 20


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description="Singer target: reads messages on stdin, writes each stream's records to "
        "JSON-lines files in destination_path, committed atomically, and echoes STATE values "
        "once they are durable.",
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
    parser.add_argument("--version", action="version", version=f"{PROGRAM} {__version__}")
    return parser


def _open_input(path: Path | None) -> t.BinaryIO:
    """Open the message source with a big buffer (stdin's own 8 KiB one reads a quarter slower)."""
    if path is None:
        return open(sys.stdin.fileno(), "rb", buffering=READ_BUFFER_BYTES, closefd=False)
    return path.open("rb", buffering=READ_BUFFER_BYTES)


@exit_on_error(PROGRAM)
def main(argv: list[str] | None = None) -> int:
    """Run the command; return its exit status (errors exit through ``exit_on_error``)."""
    args = _parser().parse_args(argv)
    if args.about:
        sys.stdout.write(about.render(args.format))
        return 0
    settings = load_settings(args.config)
    try:
        with (
            _open_input(args.input) as lines,
            Destination(
                settings.destination_path, settings.compression, settings.max_file_bytes
            ) as destination,
        ):
            if destination.leftovers_removed:
                print(
                    f"{PROGRAM}: removed {destination.leftovers_removed} uncommitted part "
                    f"file(s) left by an interrupted run in {settings.destination_path}",
                    file=sys.stderr,
                )
            target = Target(settings, destination, sys.stdout.buffer, sys.stderr)
            target.consume(lines)
    except OSError as exc:
        raise ConnectorError(str(exc)) from exc
    print(
        f"{PROGRAM}: {target.records_written} records in {destination.files_published} "
        f"file(s) written to {settings.destination_path}",
        file=sys.stderr,
    )
    return 0
