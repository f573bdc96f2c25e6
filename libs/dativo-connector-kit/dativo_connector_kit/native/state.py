"""Bookmarks for native extractors: ``IncrementalStateManager`` (the guide's API) over a small
``BookmarkStore`` protocol; ``SingerBookmarks`` is the store the runner uses, ``MemoryBookmarks``
the one for tests."""

from __future__ import annotations

import typing as t

import orjson


class BookmarkStore(t.Protocol):
    """Where bookmarks live: read one by id, write one (False when nothing was written)."""

    def get_bookmark(self, bookmark_id: str) -> t.Any:
        """The stored value, or None."""

    def set_bookmark(self, bookmark_id: str, value: t.Any) -> bool:
        """Store ``value``; an empty one is never stored."""


class IncrementalStateManager:
    """Per-object bookmarks, stored under ``<tenant_id>/<connector_type>/<object_name>``."""

    def __init__(self, store: BookmarkStore) -> None:
        """Keep bookmarks in ``store``."""
        self.store = store

    def get_state(self, tenant_id: str, connector_type: str, object_name: str) -> dict[str, t.Any]:
        """The object's stored bookmark, or ``{}`` when there is none."""
        return self.store.get_bookmark(f"{tenant_id}/{connector_type}/{object_name}") or {}

    def update_state(
        self, tenant_id: str, connector_type: str, object_name: str, state: dict[str, t.Any]
    ) -> bool:
        """Persist a bookmark; an empty one never overwrites the stored one (returns False)."""
        return self.store.set_bookmark(f"{tenant_id}/{connector_type}/{object_name}", state)


class MemoryBookmarks:
    """A ``BookmarkStore`` in a dict, for tests:
    ``IncrementalStateManager(MemoryBookmarks({"acme/my_api/items": {...}}))``."""

    def __init__(self, initial: dict[str, t.Any] | None = None) -> None:
        """Start with the bookmarks ``initial`` (by id)."""
        self.bookmarks: dict[str, t.Any] = dict(initial or {})

    def get_bookmark(self, bookmark_id: str) -> t.Any:
        """The stored value, or None."""
        return self.bookmarks.get(bookmark_id)

    def set_bookmark(self, bookmark_id: str, value: t.Any) -> bool:
        """Store ``value``; an empty one is ignored."""
        if not value:
            return False
        self.bookmarks[bookmark_id] = value
        return True


class SingerBookmarks:
    """A ``BookmarkStore`` over a Singer state ``{"bookmarks": {id: value}}``: reads come from
    the state the tap started with; each write emits the whole state as a STATE message on
    ``out``, after the records written before it."""

    def __init__(self, initial: dict[str, t.Any] | None, out: t.IO[bytes]) -> None:
        """Start from ``initial`` (None: no state); write STATE lines to ``out``."""
        self.state: dict[str, t.Any] = dict(initial or {})
        self.state.setdefault("bookmarks", {})
        self.out = out

    def get_bookmark(self, bookmark_id: str) -> t.Any:
        """The bookmark in the initial state (or written since), or None."""
        return self.state["bookmarks"].get(bookmark_id)

    def set_bookmark(self, bookmark_id: str, value: t.Any) -> bool:
        """Record ``value`` and emit the state; an empty value is ignored."""
        if not value:
            return False
        self.state["bookmarks"][bookmark_id] = value
        self.out.write(orjson.dumps({"type": "STATE", "value": self.state}) + b"\n")
        self.out.flush()
        return True
