"""The ``target-parquet`` command: parse arguments, run the target, map errors to exit statuses
(the connector kit's: 1 failed, 2 configuration, 3 connection, 4 authentication)."""

from __future__ import annotations

import sys
from pathlib import Path

from dativo_connector_kit import exit_on_error, target_cli
from target_parquet.about import ABOUT
from target_parquet.settings import load_settings

PROGRAM = ABOUT["name"]
DESCRIPTION = (
    "Singer target: reads messages on stdin, writes each stream's records as Parquet files "
    "under <destination_path>/<stream>/, echoes STATE values once durable."
)
MB = 1_000_000


@exit_on_error(PROGRAM)
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
        with target_cli.open_input(source) as lines:
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
    args = target_cli.parse_args(ABOUT, DESCRIPTION, argv)
    _run(args.config, args.input)
    return 0
