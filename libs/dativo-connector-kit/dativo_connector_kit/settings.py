"""Config files and their generic checks against a settings JSON schema.

Each connector keeps its own schema and typed settings; this module reads and merges the
``--config`` files and reports every unknown, missing or ill-typed setting by its key.
"""

from __future__ import annotations

import typing as t

import orjson

from dativo_connector_kit.errors import ConfigurationError

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

_IS_TYPE: dict[str, Callable[[object], bool]] = {
    "string": lambda value: isinstance(value, str),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "number": lambda value: isinstance(value, int | float) and not isinstance(value, bool),
    "boolean": lambda value: isinstance(value, bool),
    "array": lambda value: isinstance(value, list),
    "object": lambda value: isinstance(value, dict),
    "null": lambda value: value is None,
}


def read_config(paths: Iterable[Path]) -> dict[str, t.Any]:
    """Read the config files and merge them in order (later keys win)."""
    merged: dict[str, t.Any] = {}
    for path in paths:
        merged.update(_read_object(path))
    return merged


def problems(
    config: dict[str, t.Any], schema: dict[str, t.Any], *, enum_as_list: bool = False
) -> list[str]:
    """Describe every unknown setting, missing required one, and value that breaks its spec
    (``type``, ``enum``, ``minimum``, ``exclusiveMinimum``, ``minLength``), each by its key.

    ``enum_as_list`` shows allowed values as a Python list (target-jsonl's wording)."""
    properties = schema["properties"]
    errors = [f"unknown setting {key!r}" for key in config if key not in properties]
    errors += [
        f"missing required setting {key!r}" for key in schema["required"] if key not in config
    ]
    errors += [
        problem
        for key, spec in properties.items()
        if key in config and (problem := _problem(key, config[key], spec, enum_as_list))
    ]
    return errors


def fail_if_invalid(errors: list[str], schema: dict[str, t.Any]) -> None:
    """Raise ``ConfigurationError`` listing ``errors`` and the known settings, if any."""
    if errors:
        known = ", ".join(schema["properties"])
        raise ConfigurationError(f"invalid config ({'; '.join(errors)}); known settings: {known}")


def with_defaults(config: dict[str, t.Any], schema: dict[str, t.Any]) -> dict[str, t.Any]:
    """Every setting of the schema: its configured value, else its default (or None)."""
    return {key: config.get(key, spec.get("default")) for key, spec in schema["properties"].items()}


def _problem(key: str, value: t.Any, spec: dict[str, t.Any], enum_as_list: bool) -> str | None:
    """Describe how one setting's value breaks its spec, or return None."""
    types = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
    if not any(_IS_TYPE[name](value) for name in types):
        expected = " or ".join(types)
        return f"setting {key!r} must be of type {expected}, got {type(value).__name__}"
    if value is None:
        return None
    if "enum" in spec and value not in spec["enum"]:
        allowed = spec["enum"] if enum_as_list else ", ".join(spec["enum"])
        return f"setting {key!r} must be one of {allowed}, got {value!r}"
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
