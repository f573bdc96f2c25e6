"""State store: job states, run history and locks, behind one interface."""

from __future__ import annotations

import os
from pathlib import Path

from dativo_ingest.state.backends import open_url, state_url
from dativo_ingest.state.incremental import IncrementalStateManager
from dativo_ingest.state.sqlite import SQLiteStateStore
from dativo_ingest.state.store import RunRecord, StateStore, StoredState, is_empty_state


def dativo_home() -> Path:
    """``$DATIVO_HOME``, or ``.dativo`` in the current folder."""
    return Path(os.environ.get("DATIVO_HOME") or ".dativo")


def open_store(home: Path | None = None, url: str | None = None) -> StateStore:
    """Open the state store at ``url`` (default ``$DATIVO_STATE_URL``), or else the SQLite
    file under ``home`` (default: ``dativo_home()``)."""
    url = url or state_url()
    if url:
        return open_url(url)
    return SQLiteStateStore((home or dativo_home()) / "dativo.db")


__all__ = [
    "IncrementalStateManager",
    "RunRecord",
    "SQLiteStateStore",
    "StateStore",
    "StoredState",
    "dativo_home",
    "is_empty_state",
    "open_store",
]
