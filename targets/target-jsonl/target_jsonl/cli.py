"""The ``target-jsonl`` command: parse arguments, run the target, map errors to exit statuses."""

from __future__ import annotations

import sys

from dativo_connector_kit import ConnectorError, exit_on_error, target_cli
from target_jsonl.about import ABOUT
from target_jsonl.destination import Destination
from target_jsonl.settings import load_settings
from target_jsonl.target import Target

PROGRAM = ABOUT["name"]
DESCRIPTION = (
    "Singer target: reads messages on stdin, writes each stream's records to JSON-lines files "
    "in destination_path, committed atomically, and echoes STATE values once they are durable."
)


@exit_on_error(PROGRAM)
def main(argv: list[str] | None = None) -> int:
    """Run the command; return its exit status (errors exit through ``exit_on_error``)."""
    args = target_cli.parse_args(ABOUT, DESCRIPTION, argv)
    settings = load_settings(args.config)
    try:
        with (
            target_cli.open_input(args.input) as lines,
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
