"""By hand behind real taps: our tap-csv, and the community tap-spreadsheets from PyPI (a
Singer SDK tap reading a local CSV file, with typed columns)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pyarrow as pa

COMMUNITY_TAP = ("tap-spreadsheets==1.1.2", "tap-spreadsheets")
PEOPLE = "id,name,amount,joined\n1,Ada,12.5,2024-01-02\n2,Grace,7,2024-02-03\n3,Linus,,2024-03-04\n"
ITEMS = "sku,qty\nA-1,3\nB-2,5\n"


def as_json_values(row: dict) -> dict:
    """A Parquet row with its dates back in ISO form, as the tap sent them."""
    return {key: v.isoformat() if isinstance(v, dt.date) else v for key, v in row.items()}


def test_by_hand_pipe_from_our_tap_csv(parquet, connector_exe, tmp_path: Path):
    csv_folder = parquet.csv_source(people=(PEOPLE, "id"), items=(ITEMS, "sku"))
    tap_config = parquet.folder / "tap-csv.json"
    target_config = parquet.config(validate_records=True)
    sent = parquet.sent_records(
        parquet.pipe_from(connector_exe("tap-csv"), tap_config, target_config)
    )
    for stream in ("people", "items"):
        assert [as_json_values(row) for row in parquet.rows(stream)] == sent[stream]
        with (csv_folder / f"{stream}.csv").open(newline="") as file:
            assert len(parquet.rows(stream)) == len(list(csv.DictReader(file)))
    assert set(parquet.last_state()["bookmarks"]) == {"people", "items"}


def test_by_hand_pipe_from_a_community_tap(parquet, pypi_connector, tmp_path):
    csv_folder = parquet.csv_source(people=(PEOPLE, "id"), items=(ITEMS, "sku"))
    tap = pypi_connector(*COMMUNITY_TAP)
    overrides = {
        "id": {"type": ["integer"]},
        "amount": {"type": ["number", "null"]},
        "joined": {"type": ["string", "null"], "format": "date"},
    }
    entry = {
        "path": str(csv_folder / "people.csv"),
        "format": "csv",
        "table_name": "people",
        "primary_keys": ["id"],
        "schema_overrides": overrides,
    }
    tap_config = tmp_path / "tap.json"
    tap_config.write_text(json.dumps({"files": [entry]}))
    config = parquet.config(
        validate_records=True, partition_by=[{"field": "joined", "granularity": "month"}]
    )
    parquet.pipe_from(tap, tap_config, config)
    table = pa.concat_tables(parquet.tables("people")).sort_by("id")
    schema = table.schema
    assert schema.field("id").type == pa.int64()
    assert schema.field("amount").type == pa.float64()
    assert schema.field("joined").type == pa.date32()
    assert schema.field("_sdc_last_modified").type == pa.timestamp("us", tz="UTC")
    rows = [
        {key: row[key] for key in ("id", "name", "amount", "joined")} for row in table.to_pylist()
    ]
    assert rows == [
        {"id": 1, "name": "Ada", "amount": 12.5, "joined": dt.date(2024, 1, 2)},
        {"id": 2, "name": "Grace", "amount": 7.0, "joined": dt.date(2024, 2, 3)},
        {"id": 3, "name": "Linus", "amount": None, "joined": dt.date(2024, 3, 4)},
    ]
    folders = sorted(path.parent.name for path in parquet.files("people"))
    assert folders == ["joined_month=2024-01", "joined_month=2024-02", "joined_month=2024-03"]
    assert "people" in parquet.last_state()["bookmarks"]
