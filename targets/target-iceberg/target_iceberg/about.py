"""What target-iceberg is, does and accepts, as ``--about`` shows it (via the connector kit)."""

from __future__ import annotations

import typing as t

from target_iceberg import __version__
from target_iceberg.settings import SCHEMA

ABOUT: dict[str, t.Any] = {
    "name": "target-iceberg",
    "description": "Writes each stream into an Apache Iceberg table (pyiceberg; SQL or REST "
    "catalog, local or S3 warehouse): typed from the Singer schema, evolved by name, one "
    "snapshot per stream per flush marked with the run id, and a STATE echoed once every "
    "record before it is committed.",
    "version": __version__,
    "capabilities": ["about", "batch", "test"],
    "settings": SCHEMA,
}
