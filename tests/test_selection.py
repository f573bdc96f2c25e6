"""Meltano-compatible select patterns and metadata overrides on a Singer catalog."""

from __future__ import annotations

import copy

from dativo_ingest.catalog import apply_metadata, apply_selection
from dativo_ingest.catalog.drift import schema_drift
from dativo_ingest.catalog.listing import selection_lines
from dativo_ingest.config.models import StreamMetadata

CATALOG = {
    "streams": [
        {
            "tap_stream_id": "public-users",
            "stream": "users",
            "key_properties": ["id"],
            "schema": {"properties": {"id": {}, "email": {}, "password_hash": {}, "updated": {}}},
            "metadata": [{"breadcrumb": [], "metadata": {"table-key-properties": ["id"]}}],
        },
        {
            "tap_stream_id": "public-orders",
            "stream": "orders",
            "schema": {"properties": {"id": {}, "amount": {}, "note": {}}},
            "metadata": [
                {"breadcrumb": ["properties", "id"], "metadata": {"inclusion": "automatic"}}
            ],
        },
    ]
}


def selected(catalog: dict) -> dict[str, set[str]]:
    result = {}
    for stream in catalog["streams"]:
        entries = {tuple(e["breadcrumb"]): e["metadata"] for e in stream["metadata"]}
        if entries[()].get("selected"):
            result[stream["tap_stream_id"]] = {
                crumb[1] for crumb, md in entries.items() if crumb and md.get("selected")
            }
    return result


def test_everything_with_star_star():
    assert selected(apply_selection(copy.deepcopy(CATALOG), ["*.*"])) == {
        "public-users": {"id", "email", "password_hash", "updated"},
        "public-orders": {"id", "amount", "note"},
    }


def test_exclusion_keeps_field_out_but_never_the_key():
    chosen = apply_selection(
        copy.deepcopy(CATALOG), ["public-users.*", "!*.password_hash", "!public-users.id"]
    )
    assert selected(chosen) == {"public-users": {"id", "email", "updated"}}


def test_single_fields_and_globs_pull_in_automatic_fields():
    chosen = apply_selection(copy.deepcopy(CATALOG), ["public-ord*.amount", "public-users"])
    assert selected(chosen) == {
        "public-orders": {"id", "amount"},
        "public-users": {"id", "email", "password_hash", "updated"},
    }


def test_replication_key_override_makes_stream_incremental_and_is_kept():
    catalog = apply_metadata(
        copy.deepcopy(CATALOG), {"*-users": StreamMetadata(replication_key="updated")}
    )
    root = catalog["streams"][0]["metadata"][0]["metadata"]
    assert root["replication-method"] == "INCREMENTAL" and root["replication-key"] == "updated"
    chosen = apply_selection(catalog, ["public-users.email"])
    assert selected(chosen) == {"public-users": {"id", "email", "updated"}}


def test_key_properties_override():
    catalog = apply_metadata(
        copy.deepcopy(CATALOG), {"public-orders": StreamMetadata(key_properties=["note"])}
    )
    assert catalog["streams"][1]["key_properties"] == ["note"]


def test_selection_list_shows_selected_excluded_and_automatic_fields():
    catalog = apply_selection(copy.deepcopy(CATALOG), ["public-users.email", "!public-orders"])
    assert list(selection_lines(catalog, fields=True)) == [
        "selected  public-users",
        "    [automatic] public-users.id",
        "    [selected ] public-users.email",
        "    [excluded ] public-users.password_hash",
        "    [excluded ] public-users.updated",
        "skipped   public-orders",
        "    [excluded ] public-orders.id",
        "    [excluded ] public-orders.amount",
        "    [excluded ] public-orders.note",
    ]


def test_schema_drift_names_added_removed_and_retyped_columns():
    before = copy.deepcopy(CATALOG)
    after = copy.deepcopy(CATALOG)
    users = after["streams"][0]["schema"]["properties"]
    users["country"] = {"type": ["string", "null"]}
    del users["password_hash"]
    users["updated"] = {"type": "string", "format": "date-time"}
    after["streams"].pop()
    assert schema_drift(before, after) == [
        "public-orders: stream removed",
        "public-users: column country added",
        "public-users: column password_hash removed",
        "public-users: column updated changed type from {} to "
        "{'type': 'string', 'format': 'date-time'}",
    ]
