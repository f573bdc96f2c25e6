"""What target-jsonl is, does and accepts, as ``--about`` shows it (via the connector kit)."""

from __future__ import annotations

import typing as t

from target_jsonl import __version__
from target_jsonl.settings import SCHEMA

ABOUT: dict[str, t.Any] = {
    "name": "target-jsonl",
    "description": "Writes each stream's records to JSON-lines files in destination_path, "
    "each published whole by an atomic rename at a commit, and echoes a STATE once every "
    "record before it is committed (fsync'ed).",
    "version": __version__,
    "capabilities": ["about", "batch", "test", "validate-records"],
    "settings": SCHEMA,
}
