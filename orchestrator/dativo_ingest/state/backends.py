"""Which backend a state URL selects: a registry keyed by URL scheme."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from dativo_ingest.exceptions import ConfigurationError
from dativo_ingest.state.store import StateStore

STATE_URL_VARIABLE = "DATIVO_STATE_URL"


def _sqlite(url: str) -> StateStore:
    from dativo_ingest.state.sqlite import SQLiteStateStore

    return SQLiteStateStore(Path(url.removeprefix("sqlite://")))


def _postgres(url: str) -> StateStore:
    try:
        from dativo_ingest.state.postgres import PostgresStateStore
    except ImportError:
        raise ConfigurationError(
            "a postgresql:// state store needs psycopg: pip install 'dativo-ingest[postgres]'"
        ) from None
    return PostgresStateStore(url)


BACKENDS: dict[str, Callable[[str], StateStore]] = {
    "sqlite": _sqlite,
    "postgresql": _postgres,
    "postgres": _postgres,
}


def state_url() -> str | None:
    """The state store chosen for this process (``--state-url`` sets the variable)."""
    return os.environ.get(STATE_URL_VARIABLE) or None


def open_url(url: str) -> StateStore:
    """Open the store a URL names: ``postgresql://...`` or ``sqlite:///path/dativo.db``."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    opener = BACKENDS.get(scheme)
    if opener is None:
        known = ", ".join(f"{s}://" for s in BACKENDS)
        what = f"unknown scheme {scheme}://" if scheme else "not a URL"
        raise ConfigurationError(
            f"{STATE_URL_VARIABLE} (or --state-url): {what}; it must start with one of {known}"
        )
    return opener(url)
