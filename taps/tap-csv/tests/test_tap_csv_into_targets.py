"""tap-csv piped by hand into our target-jsonl and into the community target-jsonl 0.1.4:
every record lands with its typed values, and the target confirms the tap's final state."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ORDERS = (
    "id,customer,amount,paid,day,at,note\n"
    "1,ada,9.5,true,2024-03-01,2024-03-01T10:00:00Z,first\n"
    '2,grace,120,false,2024-03-02,2024-03-02 11:30:00+01:00,"with, comma"\n'
    "3,linus,,,,,\n"
)
EXPECTED = [
    {"id": 1, "customer": "ada", "amount": 9.5, "paid": True, "day": "2024-03-01",
     "at": "2024-03-01T10:00:00+00:00", "note": "first"},
    {"id": 2, "customer": "grace", "amount": 120, "paid": False, "day": "2024-03-02",
     "at": "2024-03-02T10:30:00+00:00", "note": "with, comma"},
    {"id": 3, "customer": "linus", "amount": None, "paid": None, "day": None, "at": None,
     "note": ""},
]  # fmt: skip


def pipe(tap_command: list[str], target_command: list[str], log: Path) -> str:
    """Run ``tap | target``; both must succeed; return the target's stdout."""
    with log.open("w") as tap_log:
        tap = subprocess.Popen(tap_command, stdout=subprocess.PIPE, stderr=tap_log)
        assert tap.stdout is not None
        with tap.stdout:
            target = subprocess.run(
                target_command, stdin=tap.stdout, capture_output=True, text=True, timeout=300
            )
        assert tap.wait(timeout=60) == 0, log.read_text()
    assert target.returncode == 0, target.stderr
    return target.stdout


def landed(folder: Path, stream: str) -> list[dict]:
    rows = []
    for file in sorted(folder.glob(f"{stream}*.jsonl")):
        rows += [json.loads(line) for line in file.read_text().splitlines() if line.strip()]
    return rows


def tap_command(tap_csv) -> list[str]:
    path = tap_csv.file("orders.csv", ORDERS)
    entry = {"entity": "orders", "path": path, "keys": ["id"], "replication_key": "id"}
    config = tap_csv.write_json("tap.json", {"files": [entry]})
    return [tap_csv.executable, "--config", str(config)]


def test_into_our_target_jsonl(tap_csv, connector_exe) -> None:
    out = tap_csv.tmp_path / "out"
    target_config = tap_csv.write_json("target.json", {"destination_path": str(out)})
    target = [connector_exe("target-jsonl"), "--config", str(target_config)]
    stdout = pipe(tap_command(tap_csv), target, tap_csv.tmp_path / "tap.log")
    assert landed(out, "orders") == EXPECTED
    final = json.loads(stdout.splitlines()[-1])
    assert final["bookmarks"]["orders"]["replication_key_value"] == 3


def test_into_community_target_jsonl(tap_csv, pypi_connector) -> None:
    target = pypi_connector("target-jsonl==0.1.4", "target-jsonl")
    out = tap_csv.tmp_path / "out"
    out.mkdir()
    settings = {"destination_path": str(out), "do_timestamp_file": False}
    target_config = tap_csv.write_json("target.json", settings)
    command = [target, "--config", str(target_config)]
    stdout = pipe(tap_command(tap_csv), command, tap_csv.tmp_path / "tap.log")
    assert landed(out, "orders") == EXPECTED
    final = json.loads(stdout.splitlines()[-1])
    assert final["bookmarks"]["orders"]["replication_key_value"] == 3
