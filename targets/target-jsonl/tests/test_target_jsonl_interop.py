"""By hand behind real taps: our tap-csv, and the community tap-csv-folder from PyPI (records
and singer-sdk BATCH files)."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest

COMMUNITY_TAP = ("tap-csv-folder==0.0.1a1", "tap-csv-folder")
PEOPLE = "id,name,country\n1,Ada,GB\n2,Grace,US\n3,Linus,SE\n"
ITEMS = "sku,qty\nA-1,3\nB-2,5\n"


@pytest.fixture
def csv_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "people.csv").write_text(PEOPLE)
    (folder / "items.csv").write_text(ITEMS)
    return folder


def csv_rows(path: Path) -> list[dict]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def pipe(tap: str, tap_config: Path, target: str, target_config: Path, out: Path) -> Path:
    """``tap --config a.json | target --config b.json > state.json``, as a shell runs it,
    with a ``tee`` keeping what the tap sent; return the file of sent messages."""
    sent = out / "sent.singer"
    command = (
        f"set -o pipefail; '{tap}' --config '{tap_config}' | tee '{sent}' | "
        f"'{target}' --config '{target_config}' > '{out / 'state.json'}'"
    )
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return sent


def sent_records(sent: Path) -> dict[str, list[dict]]:
    """The records in a file of Singer messages, by stream."""
    records: dict[str, list[dict]] = {}
    for line in sent.read_bytes().splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            records.setdefault(message["stream"], []).append(message["record"])
    return records


def last_state(out: Path) -> dict:
    return json.loads((out / "state.json").read_text().splitlines()[-1])


def test_by_hand_pipe_from_our_tap_csv(jsonl, connector_exe, csv_folder: Path, tmp_path: Path):
    tap_config = tmp_path / "tap.json"
    files = [
        {"entity": "people", "path": str(csv_folder / "people.csv"), "keys": ["id"]},
        {"entity": "items", "path": str(csv_folder / "items.csv"), "keys": ["sku"]},
    ]
    tap_config.write_text(json.dumps({"files": files}))
    target_config = jsonl.config(validate_records=True)
    sent = sent_records(
        pipe(connector_exe("tap-csv"), tap_config, jsonl.executable, target_config, tmp_path)
    )
    assert jsonl.rows("people") == sent["people"]
    assert jsonl.rows("items") == sent["items"]
    assert [str(row["id"]) for row in jsonl.rows("people")] == ["1", "2", "3"]
    assert set(last_state(tmp_path)["bookmarks"]) == {"people", "items"}


def community_rows(jsonl, stream: str) -> list[dict]:
    """The CSV columns of what tap-csv-folder sent (it adds _sdc_* columns of its own)."""
    return [
        {key: value for key, value in row.items() if not key.startswith("_sdc_")}
        for row in sorted(jsonl.rows(stream), key=lambda row: row["_sdc_line_number"])
    ]


@pytest.mark.parametrize("batch", [False, True], ids=["records", "batch-files"])
def test_by_hand_pipe_from_a_community_tap(
    jsonl, pypi_connector, csv_folder: Path, tmp_path: Path, batch: bool
):
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
    pipe(tap, tap_config, jsonl.executable, target_config, tmp_path)
    assert community_rows(jsonl, "people") == csv_rows(csv_folder / "people.csv")
    assert community_rows(jsonl, "items") == csv_rows(csv_folder / "items.csv")
    assert set(last_state(tmp_path)["bookmarks"]) == {"people", "items"}
    if batch:
        assert list((tmp_path / "batches").iterdir())  # the batch files were really used
