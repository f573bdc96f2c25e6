"""The ``target-jsonl`` command: parse arguments, run the target, map errors to exit statuses."""

from __future__ import annotations

import argparse
import sys
import typing as t
from pathlib import Path

from target_jsonl import __version__, about
from target_jsonl.errors import TargetError
from target_jsonl.files import StreamFiles
from target_jsonl.settings import load_settings
from target_jsonl.target import Target

READ_BUFFER_BYTES = 1 << 20


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="target-jsonl",
        description="Singer target: reads messages on stdin, appends each stream's records to "
        "<destination_path>/<stream>.jsonl, echoes STATE values once they are durable.",
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
    parser.add_argument("--version", action="version", version=f"target-jsonl {__version__}")
    return parser


def _open_input(path: Path | None) -> t.BinaryIO:
    """Open the message source with a big buffer (stdin's own 8 KiB one reads a quarter slower)."""
    if path is None:
        return open(sys.stdin.fileno(), "rb", buffering=READ_BUFFER_BYTES, closefd=False)
    return path.open("rb", buffering=READ_BUFFER_BYTES)


def main(argv: list[str] | None = None) -> int:
    """Run the command; return its exit status."""
    args = _parser().parse_args(argv)
    if args.about:
        sys.stdout.write(about.render(args.format))
        return 0
    try:
        settings = load_settings(args.config)
        with (
            _open_input(args.input) as lines,
            StreamFiles(settings.destination_path) as files,
        ):
            target = Target(settings, files, sys.stdout.buffer, sys.stderr)
            target.consume(lines)
    except TargetError as exc:
        print(f"target-jsonl: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(f"target-jsonl: error: {exc}", file=sys.stderr)
        return 1
    print(
        f"target-jsonl: {target.records_written} records written to {settings.destination_path}",
        file=sys.stderr,
    )
    return 0
