"""tap-csv run as a real program: about, discovery, sync, selection, --test and exit codes."""

from __future__ import annotations

import json

import pytest

CUSTOMERS = "id,name,country\n1,Ada,GB\n2,Grace,US\n3,Linus,SE\n"
ORDERS = "id,customer_id,amount\n10,1,9.50\n11,3,120.00\n"
SETTINGS = {
    "entity",
    "path",
    "keys",
    "header",
    "columns",
    "delimiter",
    "quotechar",
    "encoding",
    "compression",
    "schema",
    "infer_rows",
    "replication_key",
    "incremental",
    "on_bad_row",
}


@pytest.fixture
def config(tap_csv) -> dict:
    files = [
        {"entity": "customers", "path": tap_csv.file("customers.csv", CUSTOMERS), "keys": ["id"]},
        {"entity": "orders", "path": tap_csv.file("orders.csv", ORDERS)},
    ]
    return {"files": files}


def test_about_json_describes_every_setting(tap_csv) -> None:
    run = tap_csv.run({}, "--about", "--format", "json")
    assert run.returncode == 0, run.stderr
    about = json.loads(run.stdout)
    assert about["name"] == "tap-csv"
    assert {"discover", "catalog", "state"} <= set(about["capabilities"])
    entry = about["settings"]["properties"]["files"]["items"]["properties"]
    assert set(entry) == SETTINGS
    assert all(entry[name].get("description") for name in SETTINGS)


def test_sync_emits_schema_then_typed_records_then_state(tap_csv, config: dict) -> None:
    run = tap_csv.sync(config)
    customers = [m for m in run.messages if m.get("stream") == "customers"]
    assert customers[0]["type"] == "SCHEMA"
    assert customers[0]["key_properties"] == ["id"]
    assert [m["record"] for m in customers[1:]] == [
        {"id": 1, "name": "Ada", "country": "GB"},
        {"id": 2, "name": "Grace", "country": "US"},
        {"id": 3, "name": "Linus", "country": "SE"},
    ]
    assert run.records("orders") == [
        {"id": 10, "customer_id": 1, "amount": 9.5},
        {"id": 11, "customer_id": 3, "amount": 120.0},
    ]
    assert run.messages[-1]["type"] == "STATE"
    assert set(run.states[-1]["bookmarks"]) == {"customers", "orders"}


def test_discovered_catalog_describes_and_selects_streams(tap_csv, config: dict) -> None:
    config["files"][1]["replication_key"] = "id"
    catalog = tap_csv.discover(config)
    streams = {entry["tap_stream_id"]: entry for entry in catalog["streams"]}
    assert set(streams) == {"customers", "orders"}
    assert streams["customers"]["key_properties"] == ["id"]
    assert list(streams["customers"]["schema"]["properties"]) == ["id", "name", "country"]
    assert streams["orders"]["schema"]["properties"]["amount"] == {"type": ["number", "null"]}
    assert streams["orders"]["replication_key"] == "id"
    assert streams["orders"]["replication_method"] == "INCREMENTAL"
    assert streams["customers"]["replication_method"] == "FULL_TABLE"

    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if entry["tap_stream_id"] == "orders" and item["breadcrumb"] == []:
                item["metadata"]["selected"] = False
            if item["breadcrumb"] in (["properties", "country"], ["properties", "id"]):
                item["metadata"]["selected"] = False  # a key property stays: automatic
    run = tap_csv.sync(config, catalog=catalog)
    assert {m["stream"] for m in run.messages if m["type"] in {"SCHEMA", "RECORD"}} == {"customers"}
    assert run.records() == [
        {"id": 1, "name": "Ada"},
        {"id": 2, "name": "Grace"},
        {"id": 3, "name": "Linus"},
    ]


def test_test_flag_reads_one_record_of_each_stream(tap_csv, config: dict) -> None:
    run = tap_csv.run(config, "--test")
    assert run.returncode == 0, run.stderr
    assert run.records("customers") == [{"id": 1, "name": "Ada", "country": "GB"}]
    assert len(run.records("orders")) == 1


@pytest.mark.parametrize("mode", [[], ["--discover"], ["--test"]])
def test_missing_file_exits_2_naming_it(tap_csv, mode: list[str]) -> None:
    missing = str(tap_csv.tmp_path / "nowhere.csv")
    run = tap_csv.run({"files": [{"entity": "x", "path": missing}]}, *mode)
    assert run.returncode == 2
    assert "tap-csv: ConfigurationError: " in run.stderr
    assert f"files[0] (entity 'x'): no file matches path '{missing}'" in run.stderr
    assert "Traceback" not in run.stderr
    assert run.stdout == ""


def test_invalid_settings_are_all_reported_with_exit_2(tap_csv, config: dict) -> None:
    config["files"][0]["delimter"] = ";"
    config["files"][1]["schema"] = {"amount": "decimal"}
    run = tap_csv.run(config)
    assert run.returncode == 2
    assert "'delimter' was unexpected" in run.stderr
    assert "'decimal' is not one of" in run.stderr

    entry = {"entity": "customers", "path": config["files"][0]["path"], "header": False}
    run = tap_csv.run({"files": [entry, dict(entry, columns=["a", "a"])]})
    assert run.returncode == 2
    assert "entity 'customers' is configured more than once" in run.stderr
    assert "files[0] (entity 'customers'): `header: false` needs `columns`" in run.stderr
    assert "files[1] (entity 'customers'): `columns` repeats names" in run.stderr


def test_columns_named_by_settings_must_exist(tap_csv, config: dict) -> None:
    config["files"][1]["keys"] = ["order_id"]
    config["files"][1]["replication_key"] = "updated_at"
    run = tap_csv.run(config)
    assert run.returncode == 2
    assert "['order_id', 'updated_at']" in run.stderr
    assert "orders.csv" in run.stderr


def test_unreadable_config_file_exits_2(tap_csv) -> None:
    run = tap_csv.run(tap_csv.tmp_path / "absent.json")
    assert run.returncode == 2
    assert "tap-csv: ConfigurationError: cannot read the config" in run.stderr
    assert "absent.json" in run.stderr
