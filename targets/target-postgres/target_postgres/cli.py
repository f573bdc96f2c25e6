"""The ``target-postgres`` command: parse arguments, run the target, map errors to exit codes."""

from __future__ import annotations

import sys
import typing as t
from pathlib import Path

from dativo_connector_kit import ConfigurationError, exit_on_error, target_cli
from target_postgres.about import ABOUT
from target_postgres.settings import load_settings

PROGRAM = ABOUT["name"]
DESCRIPTION = (
    "Singer target: reads messages on stdin, loads each stream into a Postgres table, echoes "
    "STATE values once the records before them are committed."
)


def _open_input(path: Path | None) -> t.BinaryIO:
    """Open the message source; an unreadable ``--input`` file is a configuration error."""
    try:
        return target_cli.open_input(path)
    except OSError as exc:
        raise ConfigurationError(f"cannot read --input {path}: {exc.strerror}") from None


@exit_on_error(PROGRAM)
def main(argv: list[str] | None = None) -> int:
    """Run the command; return its exit status (errors exit through ``exit_on_error``)."""
    args = target_cli.parse_args(ABOUT, DESCRIPTION, argv)
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
