"""By hand behind real taps: our tap-csv, and the community tap-csv-folder from PyPI (records
and singer-sdk BATCH files)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

COMMUNITY_TAP = ("tap-csv-folder==0.0.1a1", "tap-csv-folder")
PEOPLE = "id,name,country\n1,Ada,GB\n2,Grace,US\n3,Linus,SE\n"
ITEMS = "sku,qty\nA-1,3\nB-2,5\n"


def csv_rows(path: Path) -> list[dict]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def test_by_hand_pipe_from_our_tap_csv(jsonl, connector_exe, tmp_path: Path):
    jsonl.csv_source(people=(PEOPLE, "id"), items=(ITEMS, "sku"))
    tap_config = jsonl.folder / "tap-csv.json"
    target_config = jsonl.config(validate_records=True)
    sent = jsonl.sent_records(jsonl.pipe_from(connector_exe("tap-csv"), tap_config, target_config))
    assert jsonl.rows("people") == sent["people"]
    assert jsonl.rows("items") == sent["items"]
    assert [str(row["id"]) for row in jsonl.rows("people")] == ["1", "2", "3"]
    assert set(jsonl.last_state()["bookmarks"]) == {"people", "items"}


def community_rows(jsonl, stream: str) -> list[dict]:
    """The CSV columns of what tap-csv-folder sent (it adds _sdc_* columns of its own)."""
    return [
        {key: value for key, value in row.items() if not key.startswith("_sdc_")}
        for row in sorted(jsonl.rows(stream), key=lambda row: row["_sdc_line_number"])
    ]


@pytest.mark.parametrize("batch", [False, True], ids=["records", "batch-files"])
def test_by_hand_pipe_from_a_community_tap(jsonl, pypi_connector, tmp_path: Path, batch: bool):
    csv_folder = jsonl.csv_source(people=(PEOPLE, "id"), items=(ITEMS, "sku"))
    tap = pypi_connector(*COMMUNITY_TAP)
    settings: dict = {"path": str(csv_folder), "read_mode": "one_stream_per_file"}
    if batch:  # the tap writes gzip JSONL files and sends BATCH messages naming them
        settings["batch_config"] = {
            "encoding": {"format": "jsonl", "compression": "gzip"},
            "storage": {"root": (tmp_path / "batches").as_uri(), "prefix": "b-"},
        }
        (tmp_path / "batches").mkdir()
    tap_config = tmp_path / "tap.json"
    tap_config.write_text(json.dumps(settings))
    target_config = jsonl.config(validate_records=True)
    jsonl.pipe_from(tap, tap_config, target_config)
    assert community_rows(jsonl, "people") == csv_rows(csv_folder / "people.csv")
    assert community_rows(jsonl, "items") == csv_rows(csv_folder / "items.csv")
    assert set(jsonl.last_state()["bookmarks"]) == {"people", "items"}
    if batch:
        assert list((tmp_path / "batches").iterdir())  # the batch files were really used
