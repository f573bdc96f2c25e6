"""The example contracts under ``assets/`` are valid, there is one for every first-party tap,
and each matches what its tap discovers on the example's data: ``dativo contract diff``
reports no drift."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml
from psycopg.conninfo import conninfo_to_dict

from dativo_ingest.contracts.model import load_contract
from tests.conftest import server_settings
from tests.local_http import serve_folder

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "assets"
FIRST_PARTY_TAPS = ("tap-csv", "tap-postgres", "tap-rest", "http-api")
PUBLIC_ORDERS = """
CREATE TABLE public.orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL,
  status varchar(20) NOT NULL, amount numeric(12,2) NOT NULL, currency char(3) NOT NULL,
  ordered_at timestamptz NOT NULL, updated_at timestamptz)
"""
USERS = {
    "data": [
        {"id": 1, "name": "Ada", "email": "ada@example.com", "active": True,
         "updated_at": "2026-01-02T10:00:00Z"},
        {"id": 2, "name": "Grace", "email": "grace@example.com", "active": False,
         "updated_at": "2026-01-03T11:30:00Z"},
    ]
}  # fmt: skip


@pytest.mark.parametrize("file", sorted(ASSETS.glob("*/*/*.yaml")), ids=lambda p: p.name)
def test_example_contract_is_valid(file: Path) -> None:
    contract = load_contract(file)
    connector = file.relative_to(ASSETS).parts[0]
    assert contract.id.startswith(f"{connector}-")
    assert [s.name for s in contract.schema_] == [file.stem]


def test_every_first_party_tap_has_example_contracts() -> None:
    assert sorted(p.name for p in ASSETS.iterdir()) == sorted(FIRST_PARTY_TAPS)
    for tap in FIRST_PARTY_TAPS:
        assert list((ASSETS / tap / "v1.0").glob("*.yaml")), tap


def contracted_job(root: Path, connector: str, config: dict, **source: object) -> Path:
    """A job of its own project naming the example contracts of ``connector``."""
    (root / "dativo.yaml").write_text("")
    job = root / "job.yaml"
    definition = {
        "tenant_id": "acme",
        "name": "example",
        "source": {
            "connector": connector,
            "config": config,
            "assets": str(ASSETS / connector / "v1.0"),
            **source,
        },
        "target": {"connector": "target-jsonl", "config": {"destination_path": "out"}},
    }
    job.write_text(yaml.safe_dump(definition))
    return job


def assert_no_drift(dativo, job: Path) -> None:
    result = dativo("contract", "diff", job, "--json", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == []


def test_tap_csv_contracts_match_the_demo_files(tmp_path, dativo) -> None:
    demo = yaml.safe_load((REPO / "jobs" / "demo" / "csv_to_jsonl.yaml").read_text())
    config = demo["source"]["config"]
    for entry in config["files"]:
        entry["path"] = str(REPO / entry["path"])
    assert_no_drift(dativo, contracted_job(tmp_path, "tap-csv", config))


@pytest.fixture
def shop_database(pg_dsn: str) -> Iterator[str]:
    """A database of its own holding ``public.orders`` as the example contract has it."""
    name = f"dativo_shop_{os.getpid()}_{os.urandom(3).hex()}"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    params = {**conninfo_to_dict(pg_dsn), "dbname": name}
    dsn = " ".join(f"{key}={value}" for key, value in params.items())
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(PUBLIC_ORDERS)
        yield dsn
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_tap_postgres_contract_matches_the_orders_table(tmp_path, dativo, shop_database) -> None:
    config = {**server_settings(shop_database), "filter_schemas": ["public"]}
    job = contracted_job(tmp_path, "tap-postgres", config, select=["public-orders"])
    assert_no_drift(dativo, job)


def test_tap_rest_contracts_match_the_example_endpoints(tmp_path, dativo) -> None:
    api = tmp_path / "api"
    api.mkdir()
    (api / "users.json").write_text(json.dumps(USERS))
    projects_schema = {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
    }
    with serve_folder(api) as url:
        config = {
            "api_url": url,
            "streams": [
                {"name": "users", "path": "/users.json", "records_path": "$.data[*]",
                 "primary_keys": ["id"], "replication_key": "updated_at"},
                {"name": "projects", "path": "/projects.json", "primary_keys": ["id"],
                 "schema": projects_schema},
            ],
        }  # fmt: skip
        assert_no_drift(dativo, contracted_job(tmp_path, "tap-rest", config))


def test_http_api_contract_matches_the_tickets_object(tmp_path, dativo) -> None:
    from tests.test_native_connector import API_KEY, SCHEMA

    api = tmp_path / "api"
    api.mkdir()
    (api / "schema").write_text(json.dumps(SCHEMA))
    with serve_folder(api) as url:
        config = {"endpoint": url, "api_key": API_KEY, "object": "tickets"}
        assert_no_drift(dativo, contracted_job(tmp_path, "http-api", config))


def test_the_demo_with_its_contracts_quarantines_exactly_the_bad_orders(tmp_path, dativo, home):
    """docs/contracts.md's end-to-end example: two bad rows appended to the demo's orders."""
    demo = yaml.safe_load((REPO / "jobs" / "demo" / "csv_to_jsonl.yaml").read_text())
    config = demo["source"]["config"]
    for entry in config["files"]:
        data = tmp_path / Path(entry["path"]).name
        data.write_text((REPO / entry["path"]).read_text())
        entry["path"] = str(data)
    with (tmp_path / "orders.csv").open("a") as orders:
        orders.write("1051,3,-5.00,EUR,2024-10-30T10:00:00Z\n")
        orders.write("1052,4,12.00,euro,2024-10-30T11:00:00Z\n")
    job = contracted_job(tmp_path, "tap-csv", config)
    result = dativo("run", job, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (
        "contracts: customers 20 passed, 0 discarded, 0 changed; orders 50 passed, 2 discarded, "
        "0 changed (drift: amount.minimum x1, currency.pattern x1)"
    ) in result.stderr
    (output,) = (tmp_path / "out").glob("orders-*.jsonl")
    landed = [json.loads(line) for line in output.read_text().splitlines()]
    assert len(landed) == 50
    assert not {1051, 1052} & {row["id"] for row in landed}
    (run,) = json.loads(dativo("runs", "--json").stdout)
    quarantined = home / "quarantine" / "acme" / "example" / run["run_id"] / "orders.jsonl"
    entries = [json.loads(line) for line in quarantined.read_text().splitlines()]
    assert [(e["record"]["id"], e["rules"], e["action"]) for e in entries] == [
        (1051, ["amount.minimum"], "discard_row"),
        (1052, ["currency.pattern"], "discard_row"),
    ]
    assert run["contracts"]["orders"] == {
        "contract": "tap-csv-orders@1.0.0",
        "passed": 50,
        "discarded": 2,
        "changed": 0,
        "drift": {"amount.minimum": 1, "currency.pattern": 1},
    }
