"""The ``target-iceberg`` command, on the connector kit's ``target_cli.main``."""

from __future__ import annotations

import sys
import typing as t

from dativo_connector_kit import target_cli
from target_iceberg.about import ABOUT
from target_iceberg.settings import Settings, load_settings

DESCRIPTION = (
    "Singer target: reads messages on stdin, writes each stream into an Iceberg table "
    "<namespace>.<stream>, echoes STATE values once committed."
)


def main(argv: list[str] | None = None) -> int:
    """Run the command; return its exit status (errors exit through ``SystemExit``)."""
    return target_cli.main(ABOUT, DESCRIPTION, argv, load=load_settings, test=_test, run=_run)


def _test(settings: Settings) -> str:
    """Reach the catalog (creating the namespace if missing) and list its tables."""
    catalog = _open(settings)
    tables = _guarded(catalog.list_tables, settings.namespace)
    return (
        f"catalog {settings.catalog_name!r} reached; namespace {settings.namespace!r} holds "
        f"{len(tables)} tables"
    )


def _run(settings: Settings, lines: t.BinaryIO) -> str:
    # Imported here, not at the top: pyiceberg and pyarrow take a second to import, which
    # --about and --version do not need.
    from target_iceberg.target import Target

    target = Target(settings, _open(settings), sys.stdout.buffer, sys.stderr)
    _guarded(target.consume, lines)
    written = target.records_committed - target.skipped
    skipped = f", {target.skipped} skipped as already committed" if target.skipped else ""
    return (
        f"{written} records in {target.flushes} commits to namespace {settings.namespace!r} "
        f"(run {settings.run_id}{skipped})"
    )


def _open(settings: Settings) -> t.Any:
    from target_iceberg.catalog import open_catalog

    return _guarded(open_catalog, settings)


R = t.TypeVar("R")


def _guarded(call: t.Callable[..., R], *args: t.Any) -> R:
    """Run ``call``, classifying I/O and database failures as connector errors."""
    from sqlalchemy.exc import SQLAlchemyError

    from target_iceberg.catalog import as_connector_error

    try:
        return call(*args)
    except (OSError, SQLAlchemyError) as exc:
        raise as_connector_error(exc) from exc
