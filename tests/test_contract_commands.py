"""``dativo contract generate|validate|diff`` with real connectors: contracts written from a
real Postgres table and a real CSV file, checked, and compared with the source after
``ALTER TABLE``."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
import yaml

from dativo_ingest.contracts.model import load_contract
from tests.conftest import server_settings

ORDERS = """
CREATE TABLE "{schema}".orders (
    id bigint PRIMARY KEY,
    status varchar(20) NOT NULL,
    amount numeric(12,2) NOT NULL,
    quantity integer,
    ordered_at timestamptz NOT NULL,
    shipped_on date,
    details jsonb,
    tags text[]
)
"""


def write_job(root: Path, source: dict, **more: object) -> Path:
    (root / "dativo.yaml").write_text("")
    job = root / "jobs" / "orders.yaml"
    job.parent.mkdir(exist_ok=True)
    definition = {
        "tenant_id": "acme",
        "name": "orders",
        "source": {**source, **more},
        "target": {"connector": "target-jsonl", "config": {"destination_path": "out"}},
    }
    job.write_text(yaml.safe_dump(definition))
    return job


@pytest.fixture
def postgres_job(tmp_path: Path, pg_dsn: str, pg_schema: str) -> Path:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(ORDERS.format(schema=pg_schema))
        conn.execute(
            f"INSERT INTO \"{pg_schema}\".orders VALUES (1, 'new', 9.50, 2, now(), NULL, "
            "'{\"gift\": true}', '{a,b}')"
        )
    config = {**server_settings(pg_dsn), "filter_schemas": [pg_schema]}
    return write_job(tmp_path, {"connector": "tap-postgres", "config": config})


def properties(contract_file: Path) -> dict[str, dict]:
    document = yaml.safe_load(contract_file.read_text())
    (stream,) = document["schema"]
    return {p.pop("name"): p for p in stream["properties"]}


def test_generate_from_a_postgres_table_writes_a_valid_contract(
    tmp_path, dativo, postgres_job, pg_schema
):
    result = dativo("contract", "generate", postgres_job, timeout=300)
    assert result.returncode == 0, result.stderr
    file = tmp_path / "assets" / "tap-postgres" / "v1.0" / f"{pg_schema}-orders.yaml"
    assert f"wrote assets/tap-postgres/v1.0/{pg_schema}-orders.yaml" in result.stdout
    assert "  assets: assets/tap-postgres/v1.0" in result.stdout
    assert properties(file) == {
        "id": {
            "logicalType": "integer",
            "physicalType": "bigint",
            "required": True,
            "primaryKey": True,
            "unique": True,
        },
        "status": {
            "logicalType": "string",
            "physicalType": "character varying(20)",
            "required": True,
        },
        "amount": {"logicalType": "number", "physicalType": "numeric(12,2)", "required": True},
        "quantity": {"logicalType": "integer", "physicalType": "integer"},
        "ordered_at": {
            "logicalType": "timestamp",
            "physicalType": "timestamp with time zone",
            "required": True,
        },
        "shipped_on": {"logicalType": "date", "physicalType": "date"},
        "details": {"physicalType": "jsonb"},
        "tags": {
            "logicalType": "array",
            "physicalType": "text[]",
            "items": {"name": "items", "logicalType": "string"},
        },
    }
    contract = load_contract(file)
    assert contract.stream(f"{pg_schema}-orders").physicalName == f"{pg_schema}.orders"
    checked = dativo("contract", "validate", file)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith(f"OK    {file}: tap-postgres-{pg_schema}-orders@1.0.0")


def test_generate_refuses_to_overwrite_without_force(tmp_path, dativo, postgres_job, pg_schema):
    out = tmp_path / "contracts"
    assert dativo("contract", "generate", postgres_job, "--out", out, timeout=300).returncode == 0
    file = out / f"{pg_schema}-orders.yaml"
    file.write_text("# edited by hand\n")
    again = dativo("contract", "generate", postgres_job, "--out", out, timeout=300)
    assert again.returncode == 2
    assert f"contract files exist already (give --force to overwrite them): {file}" in (
        again.stderr
    )
    assert file.read_text() == "# edited by hand\n"
    forced = dativo("contract", "generate", postgres_job, "--out", out, "--force", timeout=300)
    assert forced.returncode == 0, forced.stderr
    assert load_contract(file).id == f"tap-postgres-{pg_schema}-orders"


def test_diff_reports_added_removed_and_retyped_columns_after_alter_table(
    tmp_path, dativo, postgres_job, pg_dsn, pg_schema
):
    assert dativo("contract", "generate", postgres_job, timeout=300).returncode == 0
    contracted = write_job(
        tmp_path,
        yaml.safe_load(postgres_job.read_text())["source"],
        assets="assets/tap-postgres/v1.0",
    )
    same = dativo("contract", "diff", contracted, timeout=300)
    assert same.returncode == 0, same.stderr
    assert "no drift" in same.stdout

    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'ALTER TABLE "{pg_schema}".orders ADD COLUMN country char(2)')
        conn.execute(f'ALTER TABLE "{pg_schema}".orders DROP COLUMN shipped_on')
        conn.execute(f'ALTER TABLE "{pg_schema}".orders ALTER COLUMN quantity TYPE numeric(8,3)')
        conn.execute(f'ALTER TABLE "{pg_schema}".orders ALTER COLUMN status DROP NOT NULL')
        conn.execute(f'CREATE TABLE "{pg_schema}".refunds (id int PRIMARY KEY)')
    stream = f"{pg_schema}-orders"
    drift = dativo("contract", "diff", contracted, "--json", timeout=300)
    assert drift.returncode == 1, drift.stderr
    assert json.loads(drift.stdout) == [
        {"stream": f"{pg_schema}-refunds", "change": "stream added", "column": None,
         "contract": None, "source": None},
        {"stream": stream, "change": "column added", "column": "country", "contract": None,
         "source": "string (character(2))"},
        {"stream": stream, "change": "column removed", "column": "shipped_on",
         "contract": "date (date)", "source": None},
        {"stream": stream, "change": "required changed", "column": "status",
         "contract": "required", "source": "optional"},
        {"stream": stream, "change": "type changed", "column": "quantity",
         "contract": "integer (integer)", "source": "number (numeric(8,3))"},
    ]  # fmt: skip
    table = dativo("contract", "diff", contracted, timeout=300)
    assert table.returncode == 1
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["STREAM", "CHANGE", "COLUMN", "CONTRACT", "SOURCE"]
    assert any(
        line.split() == [stream, "type", "changed", "quantity", "integer", "(integer)",
                         "number", "(numeric(8,3))"]
        for line in lines
    )  # fmt: skip
    # nothing moved: no run, no target output, no catalog cached
    assert json.loads(dativo("runs", "--json", cwd=tmp_path).stdout) == []
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "catalogs").exists()


def test_generate_from_a_csv_file_and_validate(tmp_path, dativo):
    data = tmp_path / "people.csv"
    data.write_text("id,name,born,score,member\n1,Ada,1815-12-10,9.5,true\n2,Alan,,7,false\n")
    job = write_job(
        tmp_path,
        {
            "connector": "tap-csv",
            "config": {"files": [{"entity": "people", "path": str(data), "keys": ["id"]}]},
        },
    )
    result = dativo("contract", "generate", job, "--out", "contracts", timeout=300)
    assert result.returncode == 0, result.stderr
    file = tmp_path / "contracts" / "people.yaml"
    assert properties(file) == {
        "id": {"logicalType": "integer", "primaryKey": True, "unique": True},
        "name": {"logicalType": "string"},
        "born": {"logicalType": "date"},
        "score": {"logicalType": "number"},
        "member": {"logicalType": "boolean"},
    }
    checked = dativo("contract", "validate", file)
    assert checked.returncode == 0, checked.stdout
    uncontracted = dativo("contract", "diff", job)
    assert uncontracted.returncode == 2
    assert f"{job}: source.assets names no contract to compare with" in uncontracted.stderr


def test_validate_names_file_key_path_and_reason_of_each_bad_file(tmp_path, dativo):
    good = tmp_path / "good.yaml"
    good.write_text(
        "apiVersion: v3.1.0\nkind: DataContract\nid: c\nversion: 1.0.0\n"
        "schema:\n  - name: s\n    properties:\n      - {name: a, logicalType: integer}\n"
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: c\nschema: [\n")
    typo = tmp_path / "typo.yaml"
    typo.write_text(
        good.read_text().replace("logicalType: integer", "logicalType: int, requird: true")
    )
    missing = tmp_path / "missing.yaml"
    missing.write_text(good.read_text().replace("version: 1.0.0\n", ""))
    result = dativo("contract", "validate", good, broken, typo, missing, tmp_path / "absent.yaml")
    assert result.returncode == 2
    out = result.stdout
    assert f"OK    {good}: c@1.0.0 (s)" in out
    assert f"FAIL  {broken}: line 3, column 1: invalid YAML" in out
    assert f"FAIL  {typo}: schema[0].properties[0].logicalType: Input should be 'string'" in out
    assert f"FAIL  {typo}: schema[0].properties[0].requird: unknown key" in out
    assert f"FAIL  {missing}: version: required key is missing" in out
    assert f"FAIL  {tmp_path / 'absent.yaml'}: cannot read the file" in out


def test_an_airbyte_source_gets_contracts_for_its_selected_streams(tmp_path, dativo):
    from tests.conftest import PROGRAMS

    source = {
        "executable": str(PROGRAMS / "fake_airbyte_source.py"),
        "protocol": "airbyte",
        "config": {"streams": ["a", "b"]},
        "select": ["a"],
    }
    job = write_job(tmp_path, source)
    result = dativo("contract", "generate", job)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "assets").rglob("*.yaml")) == ["a.yaml"]
    file = tmp_path / "assets" / "fake_airbyte_source.py" / "v1.0" / "a.yaml"
    assert properties(file) == {
        "id": {"logicalType": "integer", "required": True, "primaryKey": True, "unique": True},
        "stream": {"logicalType": "string", "required": True},
    }
    grown = {**source, "config": {"streams": ["a", "b", "c"]}, "select": ["a", "c"]}
    contracted = write_job(tmp_path, grown, assets="assets/fake_airbyte_source.py/v1.0")
    drift = dativo("contract", "diff", contracted, "--json")
    assert drift.returncode == 1, drift.stderr
    assert json.loads(drift.stdout) == [
        {"stream": "c", "change": "stream added", "column": None, "contract": None,
         "source": None}
    ]  # fmt: skip


def test_generate_refuses_streams_that_would_share_a_file(tmp_path, dativo):
    from tests.conftest import PROGRAMS

    source = {
        "executable": str(PROGRAMS / "fake_airbyte_source.py"),
        "protocol": "airbyte",
        "config": {"streams": ["a/b", "a_b", "c"]},
    }
    result = dativo("contract", "generate", write_job(tmp_path, source))
    assert result.returncode == 2
    assert "streams would share a contract file (a_b.yaml: a/b, a_b)" in result.stderr
    assert not (tmp_path / "assets").exists()
