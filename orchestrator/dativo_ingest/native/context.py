"""What a native extractor is handed: its ``SourceConfig`` and a state manager whose
``update_state`` becomes a Singer STATE message."""

from __future__ import annotations

import os
from typing import IO, Any

import orjson

from dativo_ingest.config import SourceConfig
from dativo_ingest.state.store import StoredState


class NativeSourceConfig(SourceConfig):
    """``SourceConfig`` plus what the guide's extractors read: ``tenant_id`` and ``incremental``."""

    tenant_id: str = "default"
    incremental: bool = True


def native_source_config(
    connector: str, config: dict[str, Any], incremental: bool
) -> NativeSourceConfig:
    """The config the orchestrator gave, with the tenant from ``DATIVO_TENANT_ID``."""
    return NativeSourceConfig(
        executable=connector,
        config=config,
        tenant_id=os.environ.get("DATIVO_TENANT_ID", "default"),
        incremental=incremental,
    )


class SingerBookmarks:
    """A state store over a Singer state: ``{"bookmarks": {key: value}}``.

    Reads come from the state the tap was started with; each write emits the whole state as a
    STATE message on ``out``, after the records written before it.
    """

    def __init__(self, initial: dict[str, Any] | None, out: IO[bytes]) -> None:
        self.state: dict[str, Any] = dict(initial or {})
        self.state.setdefault("bookmarks", {})
        self.out = out

    def get_state(self, state_id: str) -> StoredState | None:
        value = self.state["bookmarks"].get(state_id)
        return None if value is None else StoredState(state_id, value, "", None)

    def set_state(self, state_id: str, value: Any, run_id: str | None = None) -> bool:
        if not value:
            return False
        self.state["bookmarks"][state_id] = value
        self.out.write(orjson.dumps({"type": "STATE", "value": self.state}) + b"\n")
        self.out.flush()
        return True
