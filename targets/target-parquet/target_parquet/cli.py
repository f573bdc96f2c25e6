"""The ``target-parquet`` command, on the connector kit's ``target_cli.main``."""

from __future__ import annotations

import typing as t
from pathlib import Path

from dativo_connector_kit import target_cli
from target_parquet.about import ABOUT
from target_parquet.settings import Settings, load_settings

DESCRIPTION = (
    "Singer target: reads messages on stdin, writes each stream's records as Parquet files "
    "under <destination_path>/<stream>/, echoes STATE values once durable."
)
MB = 1_000_000


def main(argv: list[str] | None = None) -> int:
    """Run the command; return its exit status (errors exit through ``SystemExit``)."""
    return target_cli.main(ABOUT, DESCRIPTION, argv, load=load_settings, test=_test, run=_run)


def _test(settings: Settings) -> str:
    """A local folder: writable or creatable; S3: the bucket answers to these credentials."""
    scheme, found, rest = settings.destination_path.partition("://")
    if not found or scheme == "file":
        from dativo_connector_kit.target import writable_folder

        return writable_folder(Path(rest if found else settings.destination_path))
    from target_parquet.storage import as_connector_error, open_store

    try:
        open_store(settings)
    except OSError as exc:
        raise as_connector_error(exc) from exc
    return f"{settings.destination_path} can be reached"


def _run(settings: Settings, lines: t.BinaryIO) -> str:
    # Imported here, not at the top: pyarrow takes ~0.15 s to import, which --about and
    # --version do not need.
    from target_parquet.storage import as_connector_error, open_store
    from target_parquet.target import Target
    from target_parquet.writer import ParquetFiles

    try:
        files = ParquetFiles(
            open_store(settings), settings.compression, int(settings.max_file_size_mb * MB)
        )
        target = Target(settings, files)
        target.consume(lines)
    except OSError as exc:
        raise as_connector_error(exc) from exc
    return (
        f"{target.records_committed} records in {files.files_written} files written to "
        f"{settings.destination_path}"
    )
