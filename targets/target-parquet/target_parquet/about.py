"""What target-parquet is, does and accepts, as ``--about`` shows it (via the connector kit)."""

from __future__ import annotations

import typing as t

from target_parquet import __version__
from target_parquet.settings import SCHEMA

ABOUT: dict[str, t.Any] = {
    "name": "target-parquet",
    "description": "Writes each stream's records as Parquet files under "
    "<destination_path>/<stream>/ (a local folder or S3), optionally Hive-partitioned, and "
    "echoes a STATE once every record before it is in committed files.",
    "version": __version__,
    "capabilities": ["about", "batch", "test", "validate-records"],
    "settings": SCHEMA,
}
