"""The ``target-jsonl`` command, on the connector kit's ``target_cli.main``."""

from __future__ import annotations

import sys
import typing as t
from contextlib import closing

from dativo_connector_kit import ConnectorError, target_cli
from dativo_connector_kit.target import writable_folder
from target_jsonl.about import ABOUT
from target_jsonl.destination import Destination
from target_jsonl.settings import Settings, load_settings
from target_jsonl.target import Target

PROGRAM = ABOUT["name"]
DESCRIPTION = (
    "Singer target: reads messages on stdin, writes each stream's records to JSON-lines files "
    "in destination_path, committed atomically, and echoes STATE values once they are durable."
)


def main(argv: list[str] | None = None) -> int:
    """Run the command; return its exit status (errors exit through ``SystemExit``)."""
    return target_cli.main(
        ABOUT,
        DESCRIPTION,
        argv,
        load=load_settings,
        test=lambda settings: writable_folder(settings.destination_path),
        run=_run,
    )


def _run(settings: Settings, lines: t.BinaryIO) -> str:
    try:
        with closing(
            Destination(settings.destination_path, settings.compression, settings.max_file_bytes)
        ) as destination:
            if destination.leftovers_removed:
                print(
                    f"{PROGRAM}: removed {destination.leftovers_removed} uncommitted part "
                    f"file(s) left by an interrupted run in {settings.destination_path}",
                    file=sys.stderr,
                )
            target = Target(settings, destination)
            target.consume(lines)
    except OSError as exc:
        raise ConnectorError(str(exc)) from exc
    return (
        f"{target.records_committed} records in {destination.files_published} file(s) "
        f"written to {settings.destination_path}"
    )
