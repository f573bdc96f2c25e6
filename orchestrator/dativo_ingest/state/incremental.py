"""``IncrementalStateManager``: the connector guide's bookmark API over the state store."""

from __future__ import annotations

from typing import Any

from dativo_ingest.state.store import StateStore


class IncrementalStateManager:
    """Per-object bookmarks for in-process extractors, stored under
    ``<tenant_id>/<connector_type>/<object_name>``."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    def get_state(self, tenant_id: str, connector_type: str, object_name: str) -> dict[str, Any]:
        """The object's stored bookmark, or ``{}`` when there is none."""
        stored = self.store.get_state(f"{tenant_id}/{connector_type}/{object_name}")
        return stored.value if stored else {}

    def update_state(
        self, tenant_id: str, connector_type: str, object_name: str, state: dict[str, Any]
    ) -> bool:
        """Persist a bookmark; an empty one never overwrites the stored one (returns False)."""
        return self.store.set_state(f"{tenant_id}/{connector_type}/{object_name}", state)
