"""The native connector API: bookmarks through IncrementalStateManager become STATE lines."""

from __future__ import annotations

import io
import json

import pytest

from dativo_connector_kit.native import IncrementalStateManager, MemoryBookmarks, SourceConfig
from dativo_connector_kit.native.runner import catalog_from_objects, replication_key
from dativo_connector_kit.native.state import SingerBookmarks


def test_bookmarks_start_from_the_given_state_and_each_update_emits_the_whole_state() -> None:
    out = io.BytesIO()
    initial = {"bookmarks": {"acme/csv/orders": {"last_sync_timestamp": "2026-01-01"}}}
    manager = IncrementalStateManager(SingerBookmarks(initial, out))
    assert manager.get_state("acme", "csv", "orders") == {"last_sync_timestamp": "2026-01-01"}
    assert manager.get_state("acme", "csv", "users") == {}
    assert manager.update_state("acme", "csv", "users", {"id": 7})
    assert not manager.update_state("acme", "csv", "orders", {})  # empty: never stored
    (line,) = out.getvalue().splitlines()
    assert json.loads(line) == {
        "type": "STATE",
        "value": {
            "bookmarks": {
                "acme/csv/orders": {"last_sync_timestamp": "2026-01-01"},
                "acme/csv/users": {"id": 7},
            }
        },
    }


def test_source_config_reads_the_tenant_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATIVO_TENANT_ID", "acme")
    config = SourceConfig.for_run({"endpoint": "http://x"}, incremental=False, object="items")
    assert config == SourceConfig(
        connection={"endpoint": "http://x"}, tenant_id="acme", incremental=False, object="items"
    )


def test_discovered_objects_may_declare_keys_and_a_replication_key() -> None:
    schema = {"type": "object", "properties": {"id": {"type": "integer"}}}
    discovered = {
        "objects": [
            {"name": "items", "schema": schema, "key_properties": ["id"], "replication_key": "id"}
        ]
    }
    (stream,) = catalog_from_objects(discovered)["streams"]
    assert stream["key_properties"] == ["id"]
    assert stream["replication_key"] == "id"
    assert stream["replication_method"] == "INCREMENTAL"
    assert stream["metadata"][0]["metadata"]["valid-replication-keys"] == ["id"]
    assert replication_key(stream) == "id"


def test_memory_bookmarks_keep_what_the_manager_stores() -> None:
    store = MemoryBookmarks({"acme/csv/orders": {"id": 3}})
    manager = IncrementalStateManager(store)
    assert manager.get_state("acme", "csv", "orders") == {"id": 3}
    assert manager.update_state("acme", "csv", "orders", {"id": 9})
    assert not manager.update_state("acme", "csv", "orders", {})
    assert store.bookmarks == {"acme/csv/orders": {"id": 9}}
