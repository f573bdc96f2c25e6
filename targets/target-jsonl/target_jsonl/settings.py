"""Settings: their JSON schema (shown by ``--about``), loading, merging and validation."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from pathlib import Path

import orjson

from dativo_connector_kit import ConfigurationError

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable

MEGABYTE = 1_000_000

SCHEMA: dict[str, t.Any] = {
    "type": "object",
    "properties": {
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
        "batch_size_rows": {
            "type": "integer",
            "minimum": 1,
            "default": 100000,
            "description": "Commit (publish the files, fsync, echo the latest STATE) as "
            "soon as this many records arrived since the last commit.",
        },
        "max_batch_age_seconds": {
            "type": "number",
            "minimum": 0,
            "default": 30,
            "description": "A STATE arriving this many seconds or more after the last "
            "commit triggers a commit, however few records arrived. `0` commits at every "
            "STATE.",
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
    "required": ["destination_path"],
    "additionalProperties": False,
}

_IS_TYPE: dict[str, Callable[[object], bool]] = {
    "string": lambda value: isinstance(value, str),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "number": lambda value: isinstance(value, int | float) and not isinstance(value, bool),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
}


@dataclass(frozen=True)
class Settings:
    """Validated, read-only configuration."""

    destination_path: Path
    compression: str
    max_file_size_mb: float | None
    batch_size_rows: int
    max_batch_age_seconds: float
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
    merged: dict[str, t.Any] = {}
    for path in paths:
        merged.update(_read_object(path))
    return validate(merged)


def validate(config: dict[str, t.Any]) -> Settings:
    """Return typed settings, or raise ``ConfigurationError`` listing every problem by key."""
    properties = SCHEMA["properties"]
    errors = [f"unknown setting {key!r}" for key in config if key not in properties]
    errors += [
        f"missing required setting {key!r}" for key in SCHEMA["required"] if key not in config
    ]
    errors += [
        problem
        for key, spec in properties.items()
        if key in config and (problem := _problem(key, config[key], spec))
    ]
    if errors:
        known = ", ".join(properties)
        raise ConfigurationError(f"invalid config ({'; '.join(errors)}); known settings: {known}")
    values = {key: config.get(key, spec.get("default")) for key, spec in properties.items()}
    values["destination_path"] = Path(values["destination_path"])
    values["max_batch_age_seconds"] = float(values["max_batch_age_seconds"])
    return Settings(**values)


def _problem(key: str, value: t.Any, spec: dict[str, t.Any]) -> str | None:
    """Describe how one setting's value breaks its schema, or return None."""
    types = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
    if not any(_IS_TYPE[name](value) for name in types):
        expected = " or ".join(types)
        return f"setting {key!r} must be of type {expected}, got {type(value).__name__}"
    if value is None:
        return None
    if "enum" in spec and value not in spec["enum"]:
        return f"setting {key!r} must be one of {spec['enum']}, got {value!r}"
    if "minimum" in spec and value < spec["minimum"]:
        return f"setting {key!r} must be at least {spec['minimum']}, got {value}"
    if "exclusiveMinimum" in spec and value <= spec["exclusiveMinimum"]:
        return f"setting {key!r} must be greater than {spec['exclusiveMinimum']}, got {value}"
    if "minLength" in spec and len(value) < spec["minLength"]:
        return f"setting {key!r} must not be empty"
    return None


def _read_object(path: Path) -> dict[str, t.Any]:
    """Parse one config file, which must hold a JSON object."""
    try:
        value = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise ConfigurationError(f"cannot read config file {path}: {exc.strerror}") from exc
    except orjson.JSONDecodeError as exc:
        raise ConfigurationError(f"config file {path} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ConfigurationError(f"config file {path} must hold a JSON object")
    return value
