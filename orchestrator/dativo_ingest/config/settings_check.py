"""A connector's config checked against the settings it declares, before anything starts.

Settings come as a JSON schema (``--about --format json``'s ``settings``) or from the registry.
Unknown keys are reported only when the list is complete (the connector's own ``--about``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dativo_ingest.problems import suggestion

if TYPE_CHECKING:
    from dativo_ingest.registry.models import Setting

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


@dataclass(frozen=True)
class SettingsSpec:
    """What a connector accepts: each key's JSON types, the required keys, and whether the
    list is complete (so that any other key is a mistake)."""

    types: Mapping[str, tuple[str, ...]]
    required: frozenset[str] = frozenset()
    complete: bool = False

    @classmethod
    def from_json_schema(cls, schema: Mapping[str, Any]) -> SettingsSpec:
        properties = schema.get("properties") or {}
        types = {name: _types(prop) for name, prop in properties.items()}
        # a required setting with a default is satisfied by it (singer-sdk applies defaults)
        required = {
            name
            for name in schema.get("required") or ()
            if not (isinstance(properties.get(name), dict) and "default" in properties[name])
        }
        return cls(types, frozenset(required), complete=bool(properties))


def _types(prop: Any) -> tuple[str, ...]:
    kind = prop.get("type") if isinstance(prop, dict) else None
    if isinstance(kind, str):
        return (kind,)
    if isinstance(kind, list):
        return tuple(k for k in kind if isinstance(k, str))
    alternatives = prop.get("anyOf") or prop.get("oneOf") if isinstance(prop, dict) else None
    return tuple(t for alt in alternatives or () for t in _types(alt))


def settings_problems(
    config: Mapping[str, Any], spec: SettingsSpec, where: str
) -> list[tuple[str, str]]:
    """``(key path, reason)`` for every unknown key (with the closest known one), missing
    required key and value of the wrong type in ``config``."""
    problems: list[tuple[str, str]] = []
    for key, value in config.items():
        if key not in spec.types:
            if spec.complete:
                hint = suggestion(key, spec.types) or f"; known keys: {', '.join(spec.types)}"
                problems.append((f"{where}.{key}", f"unknown setting{hint}"))
            continue
        expected = spec.types[key]
        if expected and value is not None and not _fits(value, expected):
            problems.append((f"{where}.{key}", f"expected {' or '.join(expected)}"))
    problems += [
        (f"{where}.{key}", "required setting is missing")
        for key in sorted(spec.required - set(config))
    ]
    return problems


def _fits(value: Any, expected: tuple[str, ...]) -> bool:
    for kind in expected:
        if kind == "null":
            continue
        if kind in ("integer", "number") and isinstance(value, bool):
            continue
        if isinstance(value, _PYTHON_TYPES.get(kind, (object,))):
            return True
        if kind in ("integer", "number") and isinstance(value, str) and _numeric(value, kind):
            return True  # from ${VAR}: the connector reads it as the number it spells
    return False


def _numeric(text: str, kind: str) -> bool:
    try:
        int(text) if kind == "integer" else float(text)
    except ValueError:
        return False
    return True


def registry_settings(settings: list[Setting], with_required: bool = True) -> SettingsSpec:
    """The registry's settings of a connector: types and (``with_required``) required keys;
    the list may be partial, so other keys are not errors. A dotted setting (``auth.token``) is
    checked as its top-level key, an object; a kind the catalogue does not state accepts any
    value."""
    types: dict[str, tuple[str, ...]] = {}
    required: set[str] = set()
    for setting in settings:
        top, dot, _ = setting.name.partition(".")
        kinds = ("object",) if dot else (setting.kind,) if setting.kind else ()
        types.setdefault(top, kinds)
        if setting.required and with_required:
            required.add(top)
    return SettingsSpec(types, frozenset(required))
