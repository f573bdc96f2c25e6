"""State store: job states, run history and locks, behind one interface."""

from __future__ import annotations

import os
from pathlib import Path

from dativo_ingest.state.sqlite import SQLiteStateStore
from dativo_ingest.state.store import RunRecord, StateStore, StoredState, is_empty_state


def dativo_home() -> Path:
    """``$DATIVO_HOME``, or ``.dativo`` in the current folder."""
    return Path(os.environ.get("DATIVO_HOME") or ".dativo")


def open_store(home: Path | None = None) -> StateStore:
    """Open the state store under ``home`` (default: ``dativo_home()``)."""
    return SQLiteStateStore((home or dativo_home()) / "dativo.db")


__all__ = [
    "RunRecord",
    "SQLiteStateStore",
    "StateStore",
    "StoredState",
    "dativo_home",
    "is_empty_state",
    "open_store",
]
