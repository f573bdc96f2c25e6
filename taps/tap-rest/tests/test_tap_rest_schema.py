"""Discovery: schemas inferred from the first records or taken from the config; field and
stream selection through a catalog."""

from __future__ import annotations

ITEMS = [
    {
        "id": 1,
        "price": 10,
        "created": "2024-03-01T10:00:00Z",
        "in_stock": True,
        "dimensions": {"w": 1.5, "h": 2},
        "tags": ["a", "b"],
        "note": None,
    },
    {
        "id": 2,
        "price": 12.25,
        "created": "2024-03-02 11:30:00+02:00",
        "in_stock": False,
        "dimensions": {"w": 3, "h": 4, "d": 5},
        "tags": [],
        "note": None,
        "sku": "X-2",
    },
    {"id": 3, "price": 7, "created": "2024-03-03T00:00:00Z", "sku": "not a date"},
    {"id": 4, "price": 8, "created": "2024-03-04T00:00:00Z", "late": 1},  # beyond the sample
    {"id": 5, "price": 9},  # no replication key value
]
OTHER_SCHEMA = {
    "type": "object",
    "properties": {"code": {"type": "string"}, "label": {"type": ["string", "null"]}},
}


def items_by_page(seen):
    page = int(seen.query["page"])
    return {"items": ITEMS[(page - 1) * 2 : page * 2]}


def config_for(api) -> dict:
    api.route("/items", items_by_page)
    api.route("/other", lambda seen: [{"code": "A", "label": "first"}])
    return api.config(
        {
            "name": "items",
            "path": "/items",
            "records_path": "items",
            "primary_keys": ["id"],
            "replication_key": "created",
            "pagination": {"type": "page"},
        },
        {"name": "other", "path": "/other", "primary_keys": ["code"], "schema": OTHER_SCHEMA},
        schema_sample_records=3,
    )


def test_discover_infers_a_schema_from_the_first_records_only(api, run_tap) -> None:
    run = run_tap(config_for(api), "--discover")

    assert run.returncode == 0, run.stderr
    catalog = run.catalog
    streams = {entry["tap_stream_id"]: entry for entry in catalog["streams"]}
    items = streams["items"]
    assert items["key_properties"] == ["id"]
    assert items["replication_key"] == "created"
    assert items["schema"]["properties"] == {
        "id": {"type": ["integer", "null"]},
        "price": {"type": ["number", "null"]},
        "created": {"type": ["string", "null"], "format": "date-time"},
        "in_stock": {"type": ["boolean", "null"]},
        "dimensions": {
            "type": ["object", "null"],
            "properties": {
                "w": {"type": ["number", "null"]},
                "h": {"type": ["integer", "null"]},
                "d": {"type": ["integer", "null"]},
            },
        },
        "tags": {"type": ["array", "null"], "items": {"type": ["string", "null"]}},
        "note": {"type": ["string", "null"]},
        "sku": {"type": ["string", "null"]},
    }
    assert streams["other"]["schema"] == OTHER_SCHEMA
    # three records sampled: two pages read, the third never requested
    assert [seen.query["page"] for seen in api.requests_to("/items")] == ["1", "2"]
    assert api.requests_to("/other") == []


def test_catalog_selects_streams_and_fields_without_inferring_again(api, run_tap) -> None:
    config = config_for(api)
    catalog = run_tap(config, "--discover").catalog
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if entry["tap_stream_id"] == "other" and item["breadcrumb"] == []:
                item["metadata"]["selected"] = False
            if item["breadcrumb"] in (["properties", "tags"], ["properties", "dimensions"]):
                item["metadata"]["selected"] = False
    discovered = len(api.seen)

    run = run_tap(config, catalog=catalog)

    assert run.returncode == 0, run.stderr
    assert {m["stream"] for m in run.messages if m["type"] in {"SCHEMA", "RECORD"}} == {"items"}
    (schema,) = [m for m in run.messages if m["type"] == "SCHEMA"]
    assert "tags" not in schema["schema"]["properties"]
    records = run.records()
    assert [r["id"] for r in records] == [1, 2, 3, 4, 5]
    assert records[0] == {
        "id": 1,
        "price": 10,
        "created": "2024-03-01T10:00:00Z",
        "in_stock": True,
        "note": None,
    }
    assert records[1]["price"] == 12.25
    assert records[3] == {"id": 4, "price": 8, "created": "2024-03-04T00:00:00Z"}
    assert "not in the schema are left out: ['late']" in run.stderr
    assert records[4] == {"id": 5, "price": 9, "created": None}
    bookmark = run.states()[-1]["bookmarks"]["items"]
    assert bookmark["replication_key_value"] == "2024-03-04T00:00:00Z"
    # with the catalog's schema, each page is requested once: no sampling pass
    assert [seen.query["page"] for seen in api.seen[discovered:]] == ["1", "2", "3", "4"]


def test_a_hand_written_catalog_can_deselect_a_nested_field(api, run_tap) -> None:
    config = config_for(api)
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "dimensions": {
                "type": ["object", "null"],
                "properties": {"w": {"type": "number"}, "h": {"type": "integer"}},
            },
        },
    }
    catalog = {
        "streams": [
            {
                "tap_stream_id": "items",
                "stream": "items",
                "schema": schema,
                "metadata": [
                    {"breadcrumb": [], "metadata": {"selected": True}},
                    {
                        "breadcrumb": ["properties", "dimensions", "properties", "w"],
                        "metadata": {"selected": False},
                    },
                ],
            }
        ]
    }

    run = run_tap(config, catalog=catalog)

    assert run.returncode == 0, run.stderr
    assert run.records() == [
        {"id": 1, "dimensions": {"h": 2}},
        {"id": 2, "dimensions": {"h": 4}},  # "d" is not in the schema
        {"id": 3},
        {"id": 4},
        {"id": 5},
    ]
    assert api.requests_to("/other") == []
