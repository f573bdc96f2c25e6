"""Data contracts enforced on real pipelines: tap-csv with bad rows into target-jsonl under each
mode, tap-postgres into target-postgres after ``ALTER TABLE`` adds and retypes columns, and an
Airbyte source enforced alike. Counts come back from ``dativo runs --json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import yaml

from tests.conftest import PROGRAMS, server_settings

CSV_HEAD = "id,name,status,score\n"
GOOD = "1,Ann,new,3\n2,Bob,paid,9\n"
BAD = "3,Cy,lost,7\n4,Di,new,99\n5,Ed,paid,5\n"  # 3: status not allowed; 4: score > 10


def contract(stream: str, properties: list[dict[str, Any]], **modes: str) -> dict[str, Any]:
    return {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": f"test-{stream}",
        "version": "1.2.0",
        "status": "active",
        "schema": [{"name": stream, "logicalType": "object", "properties": properties}],
        "customProperties": [{"property": "dativo.enforcement", "value": modes}],
    }


PEOPLE = [
    {"name": "id", "logicalType": "integer", "required": True, "primaryKey": True},
    {"name": "name", "logicalType": "string"},
    {
        "name": "status",
        "logicalType": "string",
        "quality": [
            {
                "type": "library",
                "metric": "invalidValues",
                "arguments": {"validValues": ["new", "paid"]},
                "mustBe": 0,
            }
        ],
    },
    {"name": "score", "logicalType": "integer", "logicalTypeOptions": {"maximum": 10}},
]


def project(tmp_path: Path, document: dict[str, Any]) -> Path:
    (tmp_path / "dativo.yaml").write_text("{}\n")
    (tmp_path / "assets").mkdir(exist_ok=True)
    path = tmp_path / "assets" / "contract.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def write_job(tmp_path: Path, source: dict[str, Any], target: dict[str, Any]) -> Path:
    job = tmp_path / "jobs" / "job.yaml"
    job.parent.mkdir(exist_ok=True)
    document = {"tenant_id": "acme", "name": "job", "source": source, "target": target}
    job.write_text(yaml.safe_dump(document))
    return job


def csv_job(tmp_path: Path, rows: str, **modes: str) -> tuple[Path, Path]:
    data = tmp_path / "people.csv"
    data.write_text(CSV_HEAD + rows)
    project(tmp_path, contract("people", PEOPLE, **modes))
    files = [{"entity": "people", "path": str(data), "keys": ["id"], "replication_key": "id"}]
    source = {"connector": "tap-csv", "config": {"files": files}, "assets": "assets"}
    out = tmp_path / "out"
    target = {
        "connector": "target-jsonl",
        "config": {"destination_path": str(out), "batch_size_rows": 1_000_000},
    }
    return write_job(tmp_path, source, target), out


def landed(out: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line) for f in sorted(out.glob("*.jsonl")) for line in f.read_text().splitlines()
    ]


def published(out: Path) -> list[Path]:
    """target-jsonl's published files (a killed batch leaves only a hidden .part file)."""
    return sorted(f for f in out.glob("*.jsonl") if not f.name.startswith("."))


def last_run(dativo) -> dict[str, Any]:
    result = dativo("runs", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)[0]


def quarantined(home: Path, run_id: str, stream: str) -> list[dict[str, Any]]:
    path = home / "quarantine" / "acme" / "job" / run_id / f"{stream}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_discard_row_quarantines_exactly_the_bad_rows(tmp_path, dativo, home):
    job, out = csv_job(tmp_path, GOOD + BAD, rule_violation="discard_row")
    result = dativo("run", job, timeout=120)
    assert result.returncode == 0, result.stderr
    assert [row["id"] for row in landed(out)] == [1, 2, 5]
    run = last_run(dativo)
    assert run["contracts"]["people"] == {
        "contract": "test-people@1.2.0",
        "passed": 3,
        "discarded": 2,
        "changed": 0,
        "drift": {"status.invalidValues": 1, "score.maximum": 1},
    }
    entries = quarantined(home, run["run_id"], "people")
    assert [(e["record"]["id"], e["rules"], e["action"]) for e in entries] == [
        (3, ["status.invalidValues"], "discard_row"),
        (4, ["score.maximum"], "discard_row"),
    ]
    assert {e["run_id"] for e in entries} == {run["run_id"]}
    assert entries[0]["contract"] == {"id": "test-people", "version": "1.2.0"}
    assert entries[0]["record"] == {"id": 3, "name": "Cy", "status": "lost", "score": 7}
    assert "contracts: people 3 passed, 2 discarded, 0 changed" in result.stderr
    quarantine = home / "quarantine" / "acme" / "job" / run["run_id"]
    assert f"records set aside by contracts are in {quarantine}" in result.stderr


def test_discard_value_nulls_and_records_the_change(tmp_path, dativo, home):
    job, out = csv_job(tmp_path, GOOD + BAD, rule_violation="discard_value")
    result = dativo("run", job, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = {row["id"]: row for row in landed(out)}
    assert sorted(rows) == [1, 2, 3, 4, 5]
    assert rows[3]["status"] is None and rows[3]["score"] == 7
    assert rows[4]["score"] is None and rows[4]["status"] == "new"
    run = last_run(dativo)
    figures = run["contracts"]["people"]
    assert (figures["passed"], figures["discarded"], figures["changed"]) == (3, 0, 2)
    entries = quarantined(home, run["run_id"], "people")
    assert [(e["action"], e["fields"], e["record"]["id"]) for e in entries] == [
        ("discard_value", ["status"], 3),
        ("discard_value", ["score"], 4),
    ]
    assert entries[1]["record"]["score"] == 99  # the value as it came


def test_evolve_lands_everything_and_reports_the_drift(tmp_path, dativo, home):
    job, out = csv_job(tmp_path, GOOD + BAD, rule_violation="evolve")
    result = dativo("run", job, timeout=120)
    assert result.returncode == 0, result.stderr
    assert [row["id"] for row in landed(out)] == [1, 2, 3, 4, 5]
    run = last_run(dativo)
    assert run["contracts"]["people"]["passed"] == 5
    assert run["contracts"]["people"]["drift"] == {"status.invalidValues": 1, "score.maximum": 1}
    assert not (home / "quarantine" / "acme" / "job" / run["run_id"]).exists()
    warning = "people drifts from test-people@1.2.0: score.maximum x1, status.invalidValues x1"
    assert warning in result.stderr


def test_freeze_fails_before_the_target_commits_and_state_does_not_move(tmp_path, dativo):
    job, out = csv_job(tmp_path, GOOD, rule_violation="freeze")
    first = dativo("run", job, timeout=120)
    assert first.returncode == 0, first.stderr
    state = json.loads(dativo("state", "get", "acme/job").stdout)
    assert state["bookmarks"]["people"]["replication_key_value"] == 2
    files = published(out)
    # more than one relay chunk of good rows goes on before the bad one: the target holds
    # them in its open batch, which a graceful end of input would commit
    many = "".join(f"{i},N{i},new,1\n" for i in range(6, 60_000))
    (tmp_path / "people.csv").write_text(CSV_HEAD + GOOD + many + BAD)
    second = dativo("run", job, timeout=120)
    assert second.returncode != 0
    assert "breaks the contract test-people@1.2.0 (status.invalidValues)" in second.stderr
    assert "mode for it is freeze" in second.stderr
    assert json.loads(dativo("state", "get", "acme/job").stdout) == state
    assert published(out) == files  # nothing of the second run was published
    run = last_run(dativo)
    assert run["status"] == "failed"
    assert run["contracts"]["people"]["passed"] >= 15_000


def test_new_stream_frozen(tmp_path, dativo):
    job, _ = csv_job(tmp_path, GOOD, new_streams="freeze")
    document = yaml.safe_load(job.read_text())
    document["source"]["config"]["files"].append(
        {"entity": "extra", "path": str(tmp_path / "people.csv"), "keys": ["id"]}
    )
    job.write_text(yaml.safe_dump(document))
    result = dativo("run", job, timeout=120)
    assert result.returncode != 0
    assert "extra: the source sends a stream no contract covers" in result.stderr


def test_airbyte_source_enforced_alike(tmp_path, dativo, home):
    items = [
        {"name": "id", "logicalType": "integer", "logicalTypeOptions": {"maximum": 3}},
        {"name": "stream", "logicalType": "string"},
    ]
    project(
        tmp_path, contract("items", items, rule_violation="discard_row", new_streams="discard_row")
    )
    out = tmp_path / "out"
    source = {
        "executable": str(PROGRAMS / "fake_airbyte_source.py"),
        "protocol": "airbyte",
        "config": {"streams": ["items", "other"], "records": 5},
        "assets": {"items": "assets/contract.yaml"},
    }
    target = {"connector": "target-jsonl", "config": {"destination_path": str(out)}}
    result = dativo("run", write_job(tmp_path, source, target), timeout=120)
    assert result.returncode == 0, result.stderr
    assert sorted(row["id"] for row in landed(out)) == [1, 2, 3]  # no file for "other"
    run = last_run(dativo)
    assert run["contracts"]["items"]["discarded"] == 2
    assert run["contracts"]["other"] == {
        "contract": None,
        "discarded": 5,
        "drift": {"new_stream": 1},
    }
    assert [e["record"]["id"] for e in quarantined(home, run["run_id"], "items")] == [4, 5]
    assert len(quarantined(home, run["run_id"], "other")) == 5


ORDERS = [
    {"name": "id", "logicalType": "integer", "required": True},
    {"name": "amount", "logicalType": "integer"},
]


def test_tap_postgres_after_alter_table_freeze_then_evolve(tmp_path, dativo, pg_dsn, pg_schema):
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE TABLE "{pg_schema}".orders (id int PRIMARY KEY, amount int)')
        conn.execute(f'INSERT INTO "{pg_schema}".orders VALUES (1, 10), (2, 20)')
    stream = f"{pg_schema}-orders"
    destination = f"{pg_schema}_dst"
    contract_file = project(tmp_path, contract(stream, ORDERS, type_mismatch="freeze"))
    source = {
        "connector": "tap-postgres",
        "config": {**server_settings(pg_dsn), "filter_schemas": [pg_schema]},
        "metadata": {stream: {"replication-method": "INCREMENTAL", "replication-key": "id"}},
        "assets": {stream: "assets/contract.yaml"},
    }
    target = {
        "connector": "target-postgres",
        "config": {**server_settings(pg_dsn), "default_target_schema": destination},
    }
    job = write_job(tmp_path, source, target)
    try:
        first = dativo("run", job, timeout=300)
        assert first.returncode == 0, first.stderr
        state = json.loads(dativo("state", "get", "acme/job").stdout)
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(f'ALTER TABLE "{pg_schema}".orders ADD COLUMN note text')
            conn.execute(f'ALTER TABLE "{pg_schema}".orders ALTER COLUMN amount TYPE text')
            conn.execute(f"INSERT INTO \"{pg_schema}\".orders VALUES (3, 'thirty', 'n')")

        frozen = dativo("run", job, timeout=300)
        assert frozen.returncode != 0
        assert "(amount.logicalType), whose mode for it is freeze" in frozen.stderr
        assert json.loads(dativo("state", "get", "acme/job").stdout) == state
        with psycopg.connect(pg_dsn) as conn:
            count = conn.execute(f'SELECT count(*) FROM "{destination}".orders').fetchone()
            assert count == (2,)

        contract_file.write_text(yaml.safe_dump(contract(stream, ORDERS, type_mismatch="evolve")))
        evolved = dativo("run", job, timeout=300)
        assert evolved.returncode == 0, evolved.stderr
        figures = last_run(dativo)["contracts"][stream]
        # the bookmark (id >= 2) sends row 2 again: both rows carry the new column and text
        assert figures["drift"] == {"note.new_column": 2, "amount.logicalType": 2}
        assert figures["passed"] == 2
        with psycopg.connect(pg_dsn) as conn:
            rows = conn.execute(f'SELECT id, note FROM "{destination}".orders ORDER BY id')
            assert rows.fetchall()[-1] == (3, "n")
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{destination}" CASCADE')
