"""The ``target-postgres`` command, on the connector kit's ``target_cli.main``."""

from __future__ import annotations

import typing as t
from contextlib import closing

from dativo_connector_kit import target_cli
from target_postgres.about import ABOUT
from target_postgres.access import check_access
from target_postgres.settings import Settings, load_settings

DESCRIPTION = (
    "Singer target: reads messages on stdin, loads each stream into a Postgres table, echoes "
    "STATE values once the records before them are committed."
)


def main(argv: list[str] | None = None) -> int:
    """Run the command; return its exit status (errors exit through ``SystemExit``)."""
    return target_cli.main(
        ABOUT, DESCRIPTION, argv, load=load_settings, test=check_access, run=_run
    )


def _run(settings: Settings, lines: t.BinaryIO) -> str:
    from target_postgres.loader import Loader  # psycopg: not imported for --about
    from target_postgres.target import Target

    with closing(Loader.connect(settings)) as loader:
        target = Target(settings, loader)
        target.consume(lines)
    return f"{target.records_committed} records loaded"
