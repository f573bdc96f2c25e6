"""State store: job states, run history and locks, behind one interface."""

from __future__ import annotations

import os
from pathlib import Path

from dativo_ingest.paths import find_project_root
from dativo_ingest.state.backends import open_url, state_url
from dativo_ingest.state.sqlite import SQLiteStateStore
from dativo_ingest.state.store import RunRecord, StateStore, StoredState, is_empty_state


def dativo_home(root: Path | None = None) -> Path:
    """``$DATIVO_HOME`` made absolute, else ``<root>/.dativo``; ``root`` defaults to the
    project found from the current folder (the folder holding ``dativo.yaml``), else the
    current folder. ``Project.home`` also honours ``home:`` in ``dativo.yaml``."""
    given = os.environ.get("DATIVO_HOME")
    if given:
        return Path(given).resolve()
    if root is None:
        root = find_project_root(Path.cwd()) or Path.cwd()
    return (root / ".dativo").resolve()


def open_store(home: Path | None = None, url: str | None = None) -> StateStore:
    """Open the state store at ``url`` (default ``$DATIVO_STATE_URL``), or else the SQLite
    file under ``home`` (default: ``dativo_home()``)."""
    url = url or state_url()
    if url:
        return open_url(url)
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
