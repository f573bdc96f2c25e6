"""What target-postgres is, does and accepts, as ``--about`` shows it (via the connector kit)."""

from __future__ import annotations

import typing as t

from target_postgres import __version__
from target_postgres.settings import SCHEMA

ABOUT: dict[str, t.Any] = {
    "name": "target-postgres",
    "description": "Loads Singer streams into Postgres tables with COPY (straight into the "
    "table, or through a staging table upserted on the key properties), one transaction per "
    "batch; echoes a STATE once every record before it is committed.",
    "version": __version__,
    "capabilities": [
        "about",
        "activate-version",
        "batch",
        "hard-delete",
        "test",
        "validate-records",
    ],
    "settings": SCHEMA,
}
