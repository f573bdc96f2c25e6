"""The ``target-iceberg`` command, on the connector kit's ``target_cli.main``."""

from __future__ import annotations

import gc
import sys
import typing as t

from dativo_connector_kit import TransientError, target_cli
from target_iceberg.about import ABOUT
from target_iceberg.catalog import open_catalog
from target_iceberg.settings import Settings, load_settings

DESCRIPTION = (
    "Singer target: reads messages on stdin, writes each stream into an Iceberg table "
    "<namespace>.<stream>, echoes STATE values once committed."
)


def main(argv: list[str] | None = None) -> int:
    """Run the command; return its exit status (errors exit through ``SystemExit``)."""
    return target_cli.main(ABOUT, DESCRIPTION, argv, load=load_settings, test=_test, run=_run)


def _test(settings: Settings) -> str:
    """Reach the catalog and list the namespace's tables, creating no namespace or table (a
    default catalog not created yet: its warehouse folder must be writable)."""
    from target_iceberg.catalog import DEFAULT_CATALOG_FILE, local_folder, uses_default_catalog

    folder = local_folder(settings)
    if uses_default_catalog(settings) and not (folder / DEFAULT_CATALOG_FILE).exists():
        from dativo_connector_kit.target import writable_folder

        return writable_folder(folder)
    catalog = _guarded(open_catalog, settings, create_namespace=False)
    reached = f"catalog {settings.catalog_name!r} reached"
    if not _guarded(catalog.namespace_exists, settings.namespace):
        return f"{reached}; namespace {settings.namespace!r} is created by the first run"
    tables = _guarded(catalog.list_tables, settings.namespace)
    return f"{reached}; namespace {settings.namespace!r} holds {len(tables)} tables"


def _run(settings: Settings, lines: t.BinaryIO) -> str:
    # Imported here, not at the top: pyiceberg and pyarrow take a second to import, which
    # --about and --version do not need. The collector is off meanwhile (imports make ~10^5
    # objects and no garbage worth a scan: 15% of the import time).
    gc.disable()
    from target_iceberg.target import Target

    catalog = _guarded(open_catalog, settings)
    # The loop runs a full garbage collection after each commit; pyiceberg, pydantic and
    # SQLAlchemy leave ~10^5 long-lived objects that would be rescanned each time (0.3 s a
    # commit): move them out of the collector's sight.
    gc.freeze()
    gc.enable()
    target = Target(settings, catalog, sys.stdout.buffer, sys.stderr)
    _guarded(target.consume, lines)
    for stream in target.streams.values():
        if stream.progress.skipping:
            target.warn(
                f"stream {stream.name!r}: the input ended after {stream.progress.received} "
                f"records, before the {stream.progress.skip} the load had committed from the "
                "same point: the source sent fewer records than before"
            )
    written = target.records_committed - target.skipped
    skipped = f", {target.skipped} skipped as already committed" if target.skipped else ""
    if target.held:
        skipped += f", {target.held} STATEs held back while skipping"
    return (
        f"{written} records in {target.flushes} commits to namespace {settings.namespace!r} "
        f"(run {settings.run_id}{skipped})"
    )


R = t.TypeVar("R")


def _guarded(call: t.Callable[..., R], *args: t.Any, **kwargs: t.Any) -> R:
    """Run ``call``, classifying I/O, database and concurrent-commit failures as connector
    errors (a commit that lost a race with another writer is retryable)."""
    from pyiceberg.exceptions import CommitFailedException
    from sqlalchemy.exc import SQLAlchemyError

    from target_iceberg.catalog import as_connector_error

    try:
        return call(*args, **kwargs)
    except (OSError, SQLAlchemyError) as exc:
        raise as_connector_error(exc) from exc
    except CommitFailedException as exc:
        raise TransientError(
            f"other writers kept committing to the table first, through pyiceberg's commit "
            f"retries ({exc}); nothing of this batch was committed: rerun"
        ) from exc
