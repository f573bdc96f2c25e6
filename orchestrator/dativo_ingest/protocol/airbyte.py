"""Airbyte protocol: configured catalogs, and the stored form of Airbyte state.

An Airbyte source's state is stored as ``{"airbyte": {"streams": {...}, "global": ...,
"legacy": ...}}``: one entry per stream (keyed ``namespace/name`` or ``name``), so a run that
selects fewer streams keeps the other streams' states. It goes back to the source as the list
of state messages the Airbyte CDK reads.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

AIRBYTE_KEY = "airbyte"
SyncModes = Mapping[str, Any]


def stream_key(descriptor: Mapping[str, Any]) -> str:
    namespace = descriptor.get("namespace")
    return f"{namespace}/{descriptor['name']}" if namespace else str(descriptor["name"])


class AirbyteState:
    """The cumulative state of an Airbyte source: stored value in, messages merged, value out."""

    def __init__(self, stored: Any = None) -> None:
        held = stored.get(AIRBYTE_KEY) if isinstance(stored, dict) else None
        self.value: dict[str, Any] = copy.deepcopy(held) if isinstance(held, dict) else {}
        self.value.setdefault("streams", {})

    def merge(self, state: Mapping[str, Any]) -> None:
        """Merge one ``AirbyteStateMessage`` (the ``state`` of a STATE message)."""
        kind = state.get("type", "LEGACY")
        if kind == "STREAM":
            stream = state["stream"]
            key = stream_key(stream["stream_descriptor"])
            self.value["streams"][key] = {
                "stream_descriptor": stream["stream_descriptor"],
                "stream_state": stream.get("stream_state"),
            }
        elif kind == "GLOBAL":
            self.value["global"] = state["global"]
        else:
            self.value["legacy"] = state.get("data")

    def stored(self) -> dict[str, Any]:
        """The value to persist."""
        return {AIRBYTE_KEY: copy.deepcopy(self.value)}

    def messages(self) -> list[dict[str, Any]] | dict[str, Any]:
        """What ``read --state`` gets: state messages, or the legacy blob."""
        if "global" in self.value:
            return [{"type": "GLOBAL", "global": self.value["global"]}]
        if self.value["streams"]:
            return [{"type": "STREAM", "stream": entry} for entry in self.value["streams"].values()]
        return self.value.get("legacy") or []


def configured_catalog(
    discovered: Mapping[str, Any],
    selected: set[str],
    overrides: Mapping[str, Mapping[str, Any]],
    *,
    full_refresh: bool,
    destination_sync_mode: str,
) -> dict[str, Any]:
    """A ConfiguredAirbyteCatalog for the ``selected`` streams of a discovered AirbyteCatalog.

    ``overrides`` maps stream names to ``{"replication-method", "replication-key",
    "key-properties"}``. A stream is incremental when it supports it and neither
    ``full_refresh`` nor a FULL_TABLE override says otherwise.
    """
    streams = []
    for stream in discovered.get("streams", []):
        if stream["name"] not in selected:
            continue
        override = overrides.get(stream["name"], {})
        modes = stream.get("supported_sync_modes") or ["full_refresh"]
        wants_full = full_refresh or override.get("replication-method") == "FULL_TABLE"
        sync_mode = "incremental" if "incremental" in modes and not wants_full else "full_refresh"
        cursor = override.get("replication-key")
        cursor_field = [cursor] if cursor else list(stream.get("default_cursor_field") or [])
        keys = override.get("key-properties")
        primary_key = (
            [[k] for k in keys] if keys else stream.get("source_defined_primary_key") or []
        )
        streams.append(
            {
                "stream": stream,
                "sync_mode": sync_mode,
                "cursor_field": cursor_field,
                "primary_key": primary_key,
                "destination_sync_mode": destination_sync_mode,
            }
        )
    return {"streams": streams}


def catalog_from_singer(
    singer_catalog: Mapping[str, Any], *, full_refresh: bool, destination_sync_mode: str
) -> dict[str, Any]:
    """A ConfiguredAirbyteCatalog for an Airbyte destination fed by a Singer tap."""
    discovered: dict[str, list[dict[str, Any]]] = {"streams": []}
    selected: set[str] = set()
    for stream in singer_catalog.get("streams", []):
        name = stream.get("stream") or stream.get("tap_stream_id")
        root: dict[str, Any] = next(
            (
                e.get("metadata", {})
                for e in stream.get("metadata", [])
                if e.get("breadcrumb") == []
            ),
            {},
        )
        if root.get("selected") is False:
            continue
        selected.add(name)
        keys = root.get("table-key-properties") or stream.get("key_properties") or []
        discovered["streams"].append(
            {
                "name": name,
                "json_schema": stream.get("schema", {}),
                "supported_sync_modes": ["full_refresh", "incremental"],
                "source_defined_primary_key": [[k] for k in keys],
            }
        )
    return configured_catalog(
        discovered,
        selected,
        {},
        full_refresh=full_refresh,
        destination_sync_mode=destination_sync_mode,
    )


def singer_schema_messages(configured: Mapping[str, Any]) -> list[dict[str, Any]]:
    """SCHEMA messages announcing the configured streams to a Singer target."""
    messages = []
    for entry in configured.get("streams", []):
        stream = entry["stream"]
        keys = [path[0] for path in entry.get("primary_key") or [] if len(path) == 1]
        messages.append(
            {
                "type": "SCHEMA",
                "stream": stream["name"],
                "schema": stream.get("json_schema") or {},
                "key_properties": keys,
            }
        )
    return messages
