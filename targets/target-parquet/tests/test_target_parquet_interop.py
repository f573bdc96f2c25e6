"""By hand behind real taps: our tap-csv, and the community tap-spreadsheets from PyPI (a
Singer SDK tap reading a local CSV file, with typed columns)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
from pathlib import Path

import pyarrow as pa
import pytest

COMMUNITY_TAP = ("tap-spreadsheets==1.1.2", "tap-spreadsheets")
PEOPLE = "id,name,amount,joined\n1,Ada,12.5,2024-01-02\n2,Grace,7,2024-02-03\n3,Linus,,2024-03-04\n"
ITEMS = "sku,qty\nA-1,3\nB-2,5\n"


@pytest.fixture
def csv_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "people.csv").write_text(PEOPLE)
    (folder / "items.csv").write_text(ITEMS)
    return folder


def pipe(tap: str, tap_config: Path, target: str, target_config: Path, state: Path) -> Path:
    """``tap --config a.json | target --config b.json > state.json``, as a shell runs it (with
    a ``tee`` keeping what the tap sent); return the file of what the tap sent."""
    sent = state.with_name("sent.singer")
    command = f"set -o pipefail; '{tap}' --config '{tap_config}' | tee '{sent}' | '{target}' "
    command += f"--config '{target_config}' > '{state}'"
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return sent


def sent_records(sent: Path) -> dict[str, list[dict]]:
    """The records the tap sent, per stream."""
    records: dict[str, list[dict]] = {}
    for line in sent.read_bytes().splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            records.setdefault(message["stream"], []).append(message["record"])
    return records


def as_json_values(row: dict) -> dict:
    """A Parquet row with its dates back in ISO form, as the tap sent them."""
    return {key: v.isoformat() if isinstance(v, dt.date) else v for key, v in row.items()}


def test_by_hand_pipe_from_our_tap_csv(parquet, connector_exe, csv_folder: Path, tmp_path: Path):
    tap_config = tmp_path / "tap.json"
    files = [
        {"entity": "people", "path": str(csv_folder / "people.csv"), "keys": ["id"]},
        {"entity": "items", "path": str(csv_folder / "items.csv"), "keys": ["sku"]},
    ]
    tap_config.write_text(json.dumps({"files": files}))
    state = tmp_path / "state.json"
    target_config = parquet.config(validate_records=True)
    sent = sent_records(
        pipe(connector_exe("tap-csv"), tap_config, parquet.executable, target_config, state)
    )
    for stream in ("people", "items"):
        assert [as_json_values(row) for row in parquet.rows(stream)] == sent[stream]
        with (csv_folder / f"{stream}.csv").open(newline="") as file:
            assert len(parquet.rows(stream)) == len(list(csv.DictReader(file)))
    last_state = json.loads(state.read_text().splitlines()[-1])
    assert set(last_state["bookmarks"]) == {"people", "items"}


def test_by_hand_pipe_from_a_community_tap(parquet, pypi_connector, csv_folder, tmp_path):
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
    state = tmp_path / "state.json"
    config = parquet.config(
        validate_records=True, partition_by=[{"field": "joined", "granularity": "month"}]
    )
    pipe(tap, tap_config, parquet.executable, config, state)
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
    assert "people" in json.loads(state.read_text().splitlines()[-1])["bookmarks"]
