"""The ``target-parquet`` command: parse arguments, run the target, map errors to exit statuses
(the connector kit's: 1 failed, 2 configuration, 3 connection, 4 authentication)."""

from __future__ import annotations

import argparse
import sys
import typing as t
from pathlib import Path

from dativo_connector_kit import exit_on_error
from target_parquet import __version__, about
from target_parquet.settings import load_settings

READ_BUFFER_BYTES = 1 << 20
MB = 1_000_000


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="target-parquet",
        description="Singer target: reads messages on stdin, writes each stream's records as "
        "Parquet files under <destination_path>/<stream>/, echoes STATE values once durable.",
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
    parser.add_argument("--version", action="version", version=f"target-parquet {__version__}")
    return parser


def _open_input(path: Path | None) -> t.BinaryIO:
    """Open the message source with a big buffer (stdin's own 8 KiB one reads slower)."""
    if path is None:
        return open(sys.stdin.fileno(), "rb", buffering=READ_BUFFER_BYTES, closefd=False)
    return path.open("rb", buffering=READ_BUFFER_BYTES)


@exit_on_error("target-parquet")
def _run(config: list[Path], source: Path | None) -> None:
    settings = load_settings(config)
    # Imported here, not at the top: pyarrow takes ~0.15 s to import, which --about and
    # --version do not need.
    from target_parquet.storage import as_connector_error, open_store
    from target_parquet.target import Target
    from target_parquet.writer import ParquetFiles

    try:
        files = ParquetFiles(
            open_store(settings), settings.compression, int(settings.max_file_size_mb * MB)
        )
        with _open_input(source) as lines:
            target = Target(settings, files, sys.stdout.buffer, sys.stderr)
            target.consume(lines)
    except OSError as exc:
        raise as_connector_error(exc) from exc
    print(
        f"target-parquet: {target.records_written} records in {files.files_written} files "
        f"written to {settings.destination_path}",
        file=sys.stderr,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the command; return its exit status (errors exit through ``SystemExit``)."""
    args = _parser().parse_args(argv)
    if args.about:
        sys.stdout.write(about.render(args.format))
        return 0
    _run(args.config, args.input)
    return 0
