"""Meltano-compatible selection and per-stream metadata overrides on a Singer catalog.

Patterns are ``stream.field`` with ``*``/``?`` globs; ``stream`` alone means ``stream.*``; a
leading ``!`` excludes. A stream is selected when any of its fields is. Key properties,
replication keys and fields with ``inclusion: automatic`` are kept whenever their stream is.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

from dativo_ingest.config.models import StreamMetadata

Catalog = dict[str, Any]


def stream_id(stream: Mapping[str, Any]) -> str:
    return str(stream.get("tap_stream_id") or stream.get("stream"))


def metadata_entry(stream: dict[str, Any], breadcrumb: list[str]) -> dict[str, Any]:
    """The metadata dict of ``breadcrumb`` in ``stream``, created if missing."""
    entries = stream.setdefault("metadata", [])
    for entry in entries:
        if list(entry.get("breadcrumb", [])) == breadcrumb:
            found: dict[str, Any] = entry.setdefault("metadata", {})
            return found
    metadata: dict[str, Any] = {}
    entries.append({"breadcrumb": breadcrumb, "metadata": metadata})
    return metadata


def _split(pattern: str) -> tuple[str, str]:
    entity, _, field = pattern.partition(".")
    return entity, field or "*"


def _matches(patterns: list[tuple[str, str]], stream: str, field: str) -> bool:
    return any(fnmatchcase(stream, s) and fnmatchcase(field, f) for s, f in patterns)


def automatic_fields(stream: dict[str, Any]) -> set[str]:
    """Fields that are never dropped: keys, the replication key, ``inclusion: automatic``."""
    root = metadata_entry(stream, [])
    fields = set(root.get("table-key-properties") or stream.get("key_properties") or [])
    key = root.get("replication-key") or stream.get("replication_key")
    if key:
        fields.add(key)
    for entry in stream.get("metadata", []):
        crumb = entry.get("breadcrumb", [])
        if len(crumb) == 2 and entry.get("metadata", {}).get("inclusion") == "automatic":
            fields.add(crumb[1])
    return fields


def apply_selection(catalog: Catalog, patterns: list[str]) -> Catalog:
    """Mark streams and fields ``selected`` according to ``patterns`` (in place)."""
    includes = [_split(p) for p in patterns if not p.startswith("!")]
    excludes = [_split(p[1:]) for p in patterns if p.startswith("!")]
    for stream in catalog.get("streams", []):
        sid = stream_id(stream)
        fields = list((stream.get("schema") or {}).get("properties") or {})
        chosen = {
            f for f in fields if _matches(includes, sid, f) and not _matches(excludes, sid, f)
        }
        selected = bool(chosen) or (not fields and _matches(includes, sid, "*"))
        if selected:
            chosen |= automatic_fields(stream) & set(fields)
        metadata_entry(stream, [])["selected"] = selected
        for field in fields:
            metadata_entry(stream, ["properties", field])["selected"] = field in chosen
    return catalog


def apply_metadata(catalog: Catalog, overrides: Mapping[str, StreamMetadata]) -> Catalog:
    """Apply per-stream overrides (keys are stream ids or globs) in place. A replication key
    without a method makes the stream INCREMENTAL."""
    for stream in catalog.get("streams", []):
        sid = stream_id(stream)
        for pattern, override in overrides.items():
            if not fnmatchcase(sid, pattern):
                continue
            root = metadata_entry(stream, [])
            method = override.replication_method
            if override.replication_key:
                root["replication-key"] = stream["replication_key"] = override.replication_key
                method = method or "INCREMENTAL"
            if method:
                root["replication-method"] = stream["replication_method"] = method
            if override.key_properties is not None:
                root["table-key-properties"] = stream["key_properties"] = override.key_properties
    return catalog


def unmatched_patterns(catalog: Catalog, patterns: list[str]) -> list[str]:
    """Include patterns that match no stream: most likely typos."""
    ids = [stream_id(s) for s in catalog.get("streams", [])]
    return [
        p
        for p in patterns
        if not p.startswith("!") and not any(fnmatchcase(i, _split(p)[0]) for i in ids)
    ]
