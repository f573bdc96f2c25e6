"""Schema drift: what changed between the cached catalog and a fresh discovery."""

from __future__ import annotations

from typing import Any

from dativo_ingest.catalog.selection import Catalog


def _columns(catalog: Catalog) -> dict[str, dict[str, Any]]:
    streams: dict[str, dict[str, Any]] = {}
    for stream in catalog.get("streams", []):
        name = str(stream.get("tap_stream_id") or stream.get("stream") or stream.get("name"))
        schema = stream.get("schema") or stream.get("json_schema") or {}
        streams[name] = {
            field: _kind(prop) for field, prop in (schema.get("properties") or {}).items()
        }
    return streams


def _kind(prop: Any) -> Any:
    if not isinstance(prop, dict):
        return prop
    return {k: prop[k] for k in ("type", "format", "anyOf") if k in prop}


def schema_drift(before: Catalog, after: Catalog) -> list[str]:
    """One line per stream or column added, removed or retyped, e.g.
    ``public-orders: column note added``."""
    old, new = _columns(before), _columns(after)
    changes = [f"{s}: stream added" for s in new if s not in old]
    changes += [f"{s}: stream removed" for s in old if s not in new]
    for stream in (s for s in new if s in old):
        was, now = old[stream], new[stream]
        changes += [f"{stream}: column {c} added" for c in now if c not in was]
        changes += [f"{stream}: column {c} removed" for c in was if c not in now]
        changes += [
            f"{stream}: column {c} changed type from {was[c]} to {now[c]}"
            for c in now
            if c in was and was[c] != now[c]
        ]
    return changes
