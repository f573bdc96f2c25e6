"""Settings: their JSON schema (shown by ``--about``), loading, merging and validation."""

from __future__ import annotations

import typing as t
from pathlib import Path

from dativo_connector_kit.settings import fail_if_invalid, problems, read_config, with_defaults
from dativo_connector_kit.target.policy import SETTINGS as BATCH_SETTINGS
from dativo_connector_kit.target.policy import BatchPolicy, settings_schema

if t.TYPE_CHECKING:
    from collections.abc import Iterable

MEGABYTE = 1_000_000

SCHEMA = settings_schema(
    {
        "destination_path": {
            "type": "string",
            "minLength": 1,
            "description": "Folder receiving the files (created if missing): "
            "`<stream>-<run start, UTC>-<sequence>.jsonl`, each made visible whole by an "
            "atomic rename when it is committed, and never modified afterwards.",
        },
        "compression": {
            "type": "string",
            "enum": ["none", "gzip"],
            "default": "none",
            "description": "`gzip` writes `.jsonl.gz` files (compression level 6).",
        },
        "max_file_size_mb": {
            "type": ["number", "null"],
            "exclusiveMinimum": 0,
            "default": None,
            "description": "Close a stream's file and start the next one once this many "
            "megabytes (1 MB = 1,000,000 bytes) of JSON lines were written to it, before "
            "compression. Unset: files are only cut at commits.",
        },
        "add_record_metadata": {
            "type": "boolean",
            "default": False,
            "description": "Add singer-sdk's `_sdc_*` metadata fields to every record.",
        },
        "validate_records": {
            "type": "boolean",
            "default": False,
            "description": "Check every record against its stream's schema (types, "
            "required fields, date-time strings); a mismatch stops the run naming the "
            "stream, the record's key and the field.",
        },
    },
    required=("destination_path",),
)


class Settings(t.NamedTuple):
    """Validated, read-only configuration (a named tuple: quick to define at start-up)."""

    destination_path: Path
    compression: str
    max_file_size_mb: float | None
    batch: BatchPolicy
    add_record_metadata: bool
    validate_records: bool

    @property
    def max_file_bytes(self) -> int | None:
        """The rotation size in bytes, or None when files are only cut at commits."""
        if self.max_file_size_mb is None:
            return None
        return max(1, round(self.max_file_size_mb * MEGABYTE))


def load_settings(paths: Iterable[Path]) -> Settings:
    """Read the config files, merge them in order (later keys win) and validate the result."""
    return validate(read_config(paths))


def validate(config: dict[str, t.Any]) -> Settings:
    """Return typed settings, or raise ``ConfigurationError`` listing every problem by key."""
    fail_if_invalid(problems(config, SCHEMA, enum_as_list=True), SCHEMA)
    values = with_defaults(config, SCHEMA)
    values["destination_path"] = Path(values["destination_path"])
    batch = BatchPolicy.from_settings(values)
    for key in BATCH_SETTINGS:
        del values[key]
    return Settings(batch=batch, **values)
