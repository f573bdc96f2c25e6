"""tap-csv run as a real program: about, discovery, sync, selection and file errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

CUSTOMERS = "id,name,country\n1,Ada,GB\n2,Grace,US\n3,Linus,SE\n"
ORDERS = "id,customer_id,amount\n10,1,9.50\n11,3,120.00\n"


@pytest.fixture
def tap(connector_exe) -> str:
    return connector_exe("tap-csv")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    (tmp_path / "orders.csv").write_text(ORDERS)
    files = [
        {"entity": "customers", "path": str(tmp_path / "customers.csv"), "keys": ["id"]},
        {"entity": "orders", "path": str(tmp_path / "orders.csv")},
    ]
    return write_json(tmp_path / "tap.json", {"files": files})


def write_json(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value))
    return path


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in args], capture_output=True, text=True, timeout=60, check=False
    )


def messages(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def discover(tap: str, config: Path) -> dict:
    result = run(tap, "--config", config, "--discover")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_about_json_describes_the_files_setting(tap: str) -> None:
    result = run(tap, "--about", "--format", "json")
    assert result.returncode == 0, result.stderr
    about = json.loads(result.stdout)
    assert about["name"] == "tap-csv"
    assert {"discover", "catalog", "state"} <= set(about["capabilities"])
    entry = about["settings"]["properties"]["files"]["items"]["properties"]
    assert set(entry) == {"entity", "path", "keys"}


def test_discover_lists_streams_with_key_properties(tap: str, config: Path) -> None:
    streams = {entry["tap_stream_id"]: entry for entry in discover(tap, config)["streams"]}
    assert set(streams) == {"customers", "orders"}
    assert streams["customers"]["key_properties"] == ["id"]
    assert streams["orders"]["key_properties"] == []
    assert list(streams["customers"]["schema"]["properties"]) == ["id", "name", "country"]
    assert streams["orders"]["schema"]["properties"]["amount"] == {"type": ["string", "null"]}


def test_sync_emits_schema_then_records_then_state(tap: str, config: Path) -> None:
    result = run(tap, "--config", config)
    assert result.returncode == 0, result.stderr
    sent = messages(result.stdout)
    customers = [m for m in sent if m.get("stream") == "customers"]
    assert customers[0]["type"] == "SCHEMA"
    assert customers[0]["key_properties"] == ["id"]
    assert [m["record"] for m in customers[1:]] == [
        {"id": "1", "name": "Ada", "country": "GB"},
        {"id": "2", "name": "Grace", "country": "US"},
        {"id": "3", "name": "Linus", "country": "SE"},
    ]
    records = [m for m in sent if m["type"] == "RECORD"]
    assert len(records) == 5
    assert records[-1]["record"] == {"id": "11", "customer_id": "3", "amount": "120.00"}
    assert sent[-1]["type"] == "STATE"
    assert set(sent[-1]["value"]["bookmarks"]) == {"customers", "orders"}


def test_sync_accepts_a_state_file(tap: str, config: Path, tmp_path: Path) -> None:
    state = write_json(tmp_path / "state.json", {"bookmarks": {"customers": {}}})
    result = run(tap, "--config", config, "--state", state)
    assert result.returncode == 0, result.stderr
    sent = messages(result.stdout)
    assert len([m for m in sent if m["type"] == "RECORD"]) == 5
    assert sent[-1]["type"] == "STATE"


def test_catalog_deselects_a_stream_and_a_field(tap: str, config: Path, tmp_path: Path) -> None:
    catalog = discover(tap, config)
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if entry["tap_stream_id"] == "orders" and item["breadcrumb"] == []:
                item["metadata"]["selected"] = False
            if item["breadcrumb"] == ["properties", "country"]:
                item["metadata"]["selected"] = False
    result = run(tap, "--config", config, "--catalog", write_json(tmp_path / "cat.json", catalog))
    assert result.returncode == 0, result.stderr
    sent = messages(result.stdout)
    assert {m["stream"] for m in sent if m["type"] in {"SCHEMA", "RECORD"}} == {"customers"}
    records = [m["record"] for m in sent if m["type"] == "RECORD"]
    assert records[0] == {"id": "1", "name": "Ada"}
    assert len(records) == 3


@pytest.mark.parametrize("mode", [[], ["--discover"]])
def test_missing_file_fails_and_names_it(tap: str, tmp_path: Path, mode: list[str]) -> None:
    missing = tmp_path / "nowhere.csv"
    config = write_json(tmp_path / "tap.json", {"files": [{"entity": "x", "path": str(missing)}]})
    result = run(tap, "--config", config, *mode)
    assert result.returncode != 0
    assert str(missing) in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_key_that_is_not_a_column_fails_and_names_it(tap: str, config: Path) -> None:
    settings = json.loads(config.read_text())
    settings["files"][1]["keys"] = ["order_id"]
    result = run(tap, "--config", write_json(config, settings))
    assert result.returncode != 0
    assert "order_id" in result.stderr
    assert "orders.csv" in result.stderr


def test_row_wider_than_the_header_fails_with_its_line(tap: str, tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("id,name\n1,Ada\n2,Grace,extra\n")
    files = [{"entity": "bad", "path": str(tmp_path / "bad.csv")}]
    result = run(tap, "--config", write_json(tmp_path / "tap.json", {"files": files}))
    assert result.returncode != 0
    assert "bad.csv line 3" in result.stderr
