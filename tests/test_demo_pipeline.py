"""End to end with the first-party connectors: tap-csv -> dativo -> target-jsonl."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import yaml

from dativo_ingest.state import open_store
from tests.conftest import DATIVO

REPO = Path(__file__).resolve().parents[1]
DEMO_JOB = REPO / "jobs" / "demo" / "csv_to_jsonl.yaml"


def test_demo_job_lands_every_csv_row_and_resumes(tmp_path, home, dativo):
    job = yaml.safe_load(DEMO_JOB.read_text())
    for entry in job["source"]["config"]["files"]:
        entry["path"] = str(REPO / entry["path"])
    job["target"]["config"]["destination_path"] = str(tmp_path / "out")
    job_file = tmp_path / "demo.yaml"
    job_file.write_text(yaml.safe_dump(job))

    first = dativo("run", job_file)
    assert first.returncode == 0, first.stderr
    for stream in ("customers", "orders"):
        with (REPO / "jobs" / "demo" / "data" / f"{stream}.csv").open(newline="") as file:
            expected = list(csv.DictReader(file))
        files = sorted((tmp_path / "out").glob(f"{stream}*.jsonl"))
        landed = [json.loads(line) for file in files for line in file.read_text().splitlines()]
        assert len(landed) == len(expected)  # tap-csv types the columns: compare keys and ids
        assert [set(row) for row in landed] == [set(row) for row in expected]
        assert [str(row["id"]) for row in landed] == [row["id"] for row in expected]
    store = open_store(home)
    run = store.list_runs(1)[0]
    assert (run.status, run.records, run.streams) == (
        "succeeded",
        70,
        {"customers": 20, "orders": 50},
    )
    assert set(store.get_state("demo/csv_to_jsonl").value["bookmarks"]) == {"customers", "orders"}
    store.close()

    second = dativo("run", job_file)
    assert second.returncode == 0, second.stderr
    assert "resuming demo/csv_to_jsonl from the state saved at" in second.stderr


def test_connectors_installed_by_make_setup_are_the_ones_dativo_uses(env):
    """`make setup` installs with `dativo install` into the repository project's
    .dativo/connectors: `dativo connectors list` there says they are installed."""
    env = {k: v for k, v in env.items() if k not in ("DATIVO_HOME", "DATIVO_CONNECTORS_DIR")}
    listed = subprocess.run(
        [DATIVO, "connectors", "list"], env=env, cwd=REPO / "jobs", capture_output=True, text=True
    )
    assert listed.returncode == 0, listed.stderr
    installed = {
        line.split()[0]: line.split()[-2]  # INSTALLED, before LISTED BY
        for line in listed.stdout.splitlines()
        if "dativo*" in line
    }
    assert installed["tap-csv"] == installed["target-jsonl"] == "yes"
    assert (
        (REPO / ".connectors" / "bin" / "tap-csv")
        .resolve()
        .is_relative_to(REPO / ".dativo" / "connectors")
    )
