"""tap-postgres discovery against real Postgres: streams, types, keys, views, filter_schemas."""

from __future__ import annotations

import json
import subprocess

import pytest


def test_about_json_lists_settings_and_capabilities(tap) -> None:
    result = subprocess.run(
        [tap.exe, "--about", "--format", "json"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    about = json.loads(result.stdout)
    assert about["name"] == "tap-postgres"
    assert {"discover", "catalog", "state", "activate-version"} <= set(about["capabilities"])
    assert "stream-maps" not in about["capabilities"]
    settings = about["settings"]["properties"]
    assert {
        "host",
        "port",
        "user",
        "password",
        "database",
        "sqlalchemy_url",
        "filter_schemas",
        "emit_activate_version_messages",
    } <= set(settings)
    assert settings["emit_activate_version_messages"]["default"] is True


@pytest.fixture
def tables(pg, pg_schema: str) -> str:
    pg.execute(
        f"""
        SET search_path TO "{pg_schema}";
        CREATE TYPE mood AS ENUM ('sad', 'happy');
        CREATE DOMAIN short_text AS varchar(5);
        CREATE TABLE orders (
            region text NOT NULL,
            order_no bigint NOT NULL,
            placed_at timestamptz NOT NULL,
            placed_on date,
            amount numeric(12, 2),
            note short_text,
            tags text[],
            counts int[],
            attrs jsonb,
            mood mood,
            PRIMARY KEY (order_no, region)
        );
        CREATE VIEW big_orders AS SELECT order_no, amount FROM orders WHERE amount > 100;
        CREATE TABLE events (id int, at timestamp) PARTITION BY RANGE (id);
        CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (10);
        RESET search_path;
        """
    )
    return pg_schema


def test_discovery_maps_types_keys_views_and_replication_keys(tap, tables: str) -> None:
    streams = {entry["tap_stream_id"]: entry for entry in tap.discover()["streams"]}
    assert set(streams) == {f"{tables}-orders", f"{tables}-big_orders", f"{tables}-events"}

    orders = streams[f"{tables}-orders"]
    assert orders["stream"] == f"{tables}-orders"
    assert orders["table_name"] == "orders"
    assert orders["is_view"] is False
    assert orders["key_properties"] == ["order_no", "region"]  # key order, not column order
    assert "replication_method" not in orders
    any_json = ["object", "array", "string", "number", "boolean", "null"]
    assert orders["schema"]["properties"] == {
        "region": {"type": "string", "x-sql-datatype": "text"},
        "order_no": {"type": "integer", "x-sql-datatype": "bigint"},
        "placed_at": {
            "type": "string",
            "format": "date-time",
            "x-sql-datatype": "timestamp with time zone",
        },
        "placed_on": {"type": ["string", "null"], "format": "date", "x-sql-datatype": "date"},
        "amount": {"type": ["number", "null"], "x-sql-datatype": "numeric(12,2)"},
        "note": {"type": ["string", "null"], "x-sql-datatype": "character varying(5)"},
        "tags": {
            "type": ["array", "null"],
            "items": {"type": ["string", "null"]},
            "x-sql-datatype": "text[]",
        },
        "counts": {
            "type": ["array", "null"],
            "items": {"type": ["integer", "null"]},
            "x-sql-datatype": "integer[]",
        },
        "attrs": {"type": any_json, "x-sql-datatype": "jsonb"},
        "mood": {"type": ["string", "null"], "x-sql-datatype": f"{tables}.mood"},
    }
    assert orders["schema"]["required"] == ["region", "order_no", "placed_at"]
    root = tap.metadata({"streams": [orders]}, orders["tap_stream_id"])
    assert root["valid-replication-keys"] == ["order_no", "placed_at", "placed_on"]
    assert root["table-key-properties"] == ["order_no", "region"]
    assert root["schema-name"] == tables
    assert root["selected"] is True
    assert "replication-key" not in root
    assert "forced-replication-method" not in root
    fields = {
        item["breadcrumb"][1]: item["metadata"]["inclusion"]
        for item in orders["metadata"]
        if item["breadcrumb"]
    }
    assert fields["order_no"] == fields["region"] == "automatic"
    assert fields["placed_at"] == fields["amount"] == "available"

    view = streams[f"{tables}-big_orders"]
    assert view["is_view"] is True
    assert view["key_properties"] == []
    assert view["schema"]["properties"]["order_no"] == {
        "type": ["integer", "null"],
        "x-sql-datatype": "bigint",
    }


def test_filter_schemas_limits_discovery(tap, pg, pg_schema: str) -> None:
    other = f"{pg_schema}_other"
    pg.execute(f'CREATE TABLE "{pg_schema}".mine (id int)')
    pg.execute(f'CREATE SCHEMA "{other}"; CREATE TABLE "{other}".theirs (id int)')

    def discover(schemas: list[str]) -> dict[str, str]:
        """stream id -> schema-name of every stream discovered with these filter_schemas"""
        catalog = tap.discover(config={**tap.config, "filter_schemas": schemas})
        ids = [entry["tap_stream_id"] for entry in catalog["streams"]]
        return {stream: tap.metadata(catalog, stream)["schema-name"] for stream in ids}

    try:
        only_mine, both, everything = (
            discover([pg_schema]),
            discover([pg_schema, other]),
            discover([]),
        )
    finally:
        pg.execute(f'DROP SCHEMA "{other}" CASCADE')
    assert only_mine == {f"{pg_schema}-mine": pg_schema}
    assert both == {f"{pg_schema}-mine": pg_schema, f"{other}-theirs": other}
    assert both.items() <= everything.items()
    assert not set(everything.values()) & {"pg_catalog", "information_schema"}
