"""Settings: their JSON schema (shown by ``--about``), loading, merging and validation."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from pathlib import Path

import orjson

from target_jsonl.errors import ConfigError

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable

SCHEMA: dict[str, t.Any] = {
    "type": "object",
    "properties": {
        "destination_path": {
            "type": "string",
            "minLength": 1,
            "description": "Folder receiving one `<stream>.jsonl` file per stream; "
            "created if missing. Files are appended to, never truncated.",
        },
        "batch_size_rows": {
            "type": "integer",
            "minimum": 1,
            "default": 10000,
            "description": "At a STATE message, checkpoint (flush, fsync, echo the state) "
            "once this many records were written since the last checkpoint.",
        },
        "max_batch_age_seconds": {
            "type": "number",
            "minimum": 0,
            "default": 5,
            "description": "At a STATE message, checkpoint once this many seconds have "
            "passed since the last checkpoint, however few records arrived.",
        },
    },
    "required": ["destination_path"],
    "additionalProperties": False,
}

_IS_TYPE: dict[str, Callable[[object], bool]] = {
    "string": lambda value: isinstance(value, str),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "number": lambda value: isinstance(value, int | float) and not isinstance(value, bool),
}


@dataclass(frozen=True)
class Settings:
    """Validated, read-only configuration."""

    destination_path: Path
    batch_size_rows: int
    max_batch_age_seconds: float


def load_settings(paths: Iterable[Path]) -> Settings:
    """Read the config files, merge them in order (later keys win) and validate the result."""
    merged: dict[str, t.Any] = {}
    for path in paths:
        merged.update(_read_object(path))
    return validate(merged)


def validate(config: dict[str, t.Any]) -> Settings:
    """Return typed settings, or raise ``ConfigError`` listing every problem by key."""
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
        raise ConfigError(f"invalid config ({'; '.join(errors)}); known settings: {known}")
    values = {key: config.get(key, spec.get("default")) for key, spec in properties.items()}
    return Settings(
        destination_path=Path(values["destination_path"]),
        batch_size_rows=values["batch_size_rows"],
        max_batch_age_seconds=float(values["max_batch_age_seconds"]),
    )


def _problem(key: str, value: t.Any, spec: dict[str, t.Any]) -> str | None:
    """Describe how one setting's value breaks its schema, or return None."""
    if not _IS_TYPE[spec["type"]](value):
        return f"setting {key!r} must be of type {spec['type']}, got {type(value).__name__}"
    if "minimum" in spec and value < spec["minimum"]:
        return f"setting {key!r} must be at least {spec['minimum']}, got {value}"
    if "minLength" in spec and len(value) < spec["minLength"]:
        return f"setting {key!r} must not be empty"
    return None


def _read_object(path: Path) -> dict[str, t.Any]:
    """Parse one config file, which must hold a JSON object."""
    try:
        value = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ConfigError(f"config file {path} must hold a JSON object")
    return value
