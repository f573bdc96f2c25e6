"""Schema drift is never silent: a database tap discovers on every run, so a column added at
the source arrives in the next run's data, and the change is logged as a warning."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import yaml

from tests.conftest import server_settings


def landed(folder: Path) -> list[dict]:
    return [
        json.loads(line)
        for file in sorted(folder.glob("*.jsonl"))
        for line in file.read_text().splitlines()
    ]


def test_new_source_column_arrives_in_the_next_run_and_is_warned(
    tmp_path, dativo, pg_dsn, pg_schema
):
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE TABLE "{pg_schema}".people (id int PRIMARY KEY, name text)')
        conn.execute(f"INSERT INTO \"{pg_schema}\".people VALUES (1, 'ada'), (2, 'grace')")
    (tmp_path / "dativo.yaml").write_text("")
    stream = f"{pg_schema}-people"
    job = tmp_path / "jobs" / "people.yaml"
    job.parent.mkdir()
    source = {**server_settings(pg_dsn), "filter_schemas": [pg_schema]}
    job.write_text(
        yaml.safe_dump(
            {
                "tenant_id": "acme",
                "name": "people",
                "source": {"connector": "tap-postgres", "config": source},
                "target": {"connector": "target-jsonl", "config": {"destination_path": "out"}},
            }
        )
    )
    first = dativo("run", job, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "schema change" not in first.stderr
    assert (tmp_path / "catalogs" / "acme" / "people.json").is_file()

    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'ALTER TABLE "{pg_schema}".people ADD COLUMN country text')
        conn.execute(f"INSERT INTO \"{pg_schema}\".people VALUES (3, 'edsger', 'NL')")
    second = dativo("run", job, timeout=300)
    assert second.returncode == 0, second.stderr
    assert (
        f"WARNING schema change since the last discovery: {stream}: column country added"
    ) in second.stderr
    rows = {row["id"]: row for row in landed(tmp_path / "out")}
    assert rows[3]["country"] == "NL"

    listed = dativo("discover", job, "--list", timeout=300)
    assert listed.returncode == 0, listed.stderr
    assert f"selected  {stream}" in listed.stdout
    assert f"    [automatic] {stream}.id" in listed.stdout
    assert f"    [selected ] {stream}.country" in listed.stdout
