"""Jobs naming connectors from the registry or PyPI: real installs, real Postgres."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import psycopg
import pytest
import yaml

from tests.conftest import server_settings

REPO = Path(__file__).resolve().parents[1]


def write_job(path: Path, source: dict, target: dict, name: str = "job") -> Path:
    path.write_text(
        yaml.safe_dump({"tenant_id": "acme", "name": name, "source": source, "target": target})
    )
    return path


def landed(folder: Path, prefix: str) -> list[dict]:
    rows = []
    for file in sorted(folder.glob(f"{prefix}*.jsonl")):
        rows += [json.loads(line) for line in file.read_text().splitlines() if line.strip()]
    return rows


def test_first_party_tap_by_name_into_community_target_by_pip_url(tmp_path, dativo):
    job = write_job(
        tmp_path / "job.yaml",
        source={
            "connector": "tap-csv",
            "config": {
                "files": [
                    {
                        "entity": "orders",
                        "path": str(REPO / "jobs/demo/data/orders.csv"),
                        "keys": ["id"],
                    }
                ]
            },
        },
        target={
            "pip_url": "target-jsonl==0.1.4",
            "executable": "target-jsonl",
            "config": {"destination_path": str(tmp_path / "out"), "do_timestamp_file": False},
        },
    )
    first = dativo("run", job, timeout=600)
    assert first.returncode == 0, first.stderr
    assert len(landed(tmp_path / "out", "orders")) == 50

    started = time.monotonic()
    second = dativo("run", job, "--full-refresh")
    elapsed = time.monotonic() - started
    assert second.returncode == 0, second.stderr
    assert "installing" not in second.stderr  # both environments were reused
    print(f"second run, environments reused: {elapsed:.2f}s")


@pytest.fixture
def items_table(pg_dsn: str, pg_schema: str) -> str:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f"""
            CREATE TABLE "{pg_schema}".items (
                id int PRIMARY KEY, name text, secret_note text, updated_at timestamptz);
            INSERT INTO "{pg_schema}".items
            SELECT i, 'item ' || i, 'do not copy ' || i,
                   '2026-01-01'::timestamptz + i * interval '1 hour'
            FROM generate_series(1, 20) AS i;
        """)
    return pg_schema


def postgres_source(schema: str, server: dict, **extra) -> dict:
    # meltanolabs' tap insists on a password, which a trusting server ignores
    config = {"password": "ignored-by-trust", **server, "filter_schemas": [schema]}
    return {"connector": "meltanolabs-tap-postgres", "config": config, **extra}


def test_community_tap_by_name_with_select_and_incremental_override(
    tmp_path, dativo, pg_dsn, items_table
):
    stream = f"{items_table}-items"
    job = write_job(
        tmp_path / "job.yaml",
        source=postgres_source(
            items_table,
            server_settings(pg_dsn),
            select=[f"{stream}.*", f"!{stream}.secret_note"],
            metadata={stream: {"replication-key": "updated_at"}},
        ),
        target={"connector": "target-jsonl", "config": {"destination_path": str(tmp_path / "out")}},
    )
    first = dativo("run", job, timeout=600)
    assert first.returncode == 0, first.stderr
    rows = landed(tmp_path / "out", stream)
    assert len(rows) == 20
    assert all("secret_note" not in row and "name" in row for row in rows)
    catalog = json.loads((tmp_path / "catalogs" / "acme" / "job.json").read_text())
    assert catalog["x-dativo-cache-key"]

    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f"""INSERT INTO "{items_table}".items VALUES
            (21, 'item 21', 'x', '2026-02-01'), (22, 'item 22', 'x', '2026-02-02')""")
    second = dativo("run", job)
    assert second.returncode == 0, second.stderr
    assert "discovering" in second.stderr  # a database tap discovers on every run
    assert "schema change" not in second.stderr
    new_rows = landed(tmp_path / "out", stream)[20:]
    ids = sorted(row["id"] for row in new_rows)
    assert ids in ([21, 22], [20, 21, 22])  # the bookmark row itself may come again


def test_check_passes_and_fails_on_the_source_password(tmp_path, dativo, private_postgres):
    target = {"connector": "target-jsonl", "config": {"destination_path": str(tmp_path / "o")}}
    good = write_job(tmp_path / "good.yaml", postgres_source("public", private_postgres), target)
    result = dativo("check", good, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS  source tap-postgres" in result.stdout
    assert "PASS  target target-jsonl" in result.stdout  # its --test: the folder is writable

    server = {**private_postgres, "password": "wrong-pw"}
    bad = write_job(tmp_path / "bad.yaml", postgres_source("public", server), target, "bad")
    result = dativo("check", bad, timeout=600)
    assert result.returncode == 1
    assert "FAIL  source tap-postgres" in result.stdout
    assert "password authentication failed" in result.stdout
    assert "wrong-pw" not in result.stdout + result.stderr


def test_check_fails_on_a_wrong_target_password(
    tmp_path, dativo, private_postgres, connector_exe, require_component
):
    """target-postgres declares the `test` capability: `--test` connects and checks it may
    create and write in the destination, writing nothing (exit 0, else non-zero with the
    reason on stderr)."""
    about = subprocess.run(
        [connector_exe("target-postgres"), "--about", "--format", "json"],
        capture_output=True,
        check=True,
    )
    require_component("test" in json.loads(about.stdout)["capabilities"], "target-postgres --test")
    source = {"executable": str(REPO / "tests/programs/fake_tap.py"), "config": {}}
    target = {"connector": "target-postgres", "config": dict(private_postgres)}
    good = write_job(tmp_path / "good.yaml", source, target)
    result = dativo("check", good, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS  target target-postgres" in result.stdout

    target["config"]["password"] = "wrong-target-pw"
    bad = write_job(tmp_path / "bad.yaml", source, target, "bad")
    result = dativo("check", bad, timeout=600)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL  target target-postgres" in result.stdout
    assert "password authentication failed" in result.stdout
    assert "wrong-target-pw" not in result.stdout + result.stderr


def test_discover_writes_the_catalog_with_selection(tmp_path, dativo, pg_dsn, items_table):
    stream = f"{items_table}-items"
    job = write_job(
        tmp_path / "job.yaml",
        postgres_source(items_table, server_settings(pg_dsn), select=[f"{stream}.id"]),
        {"connector": "target-jsonl", "config": {"destination_path": "out"}},
    )
    output = tmp_path / "my-catalog.json"
    result = dativo("discover", job, "--output", output, timeout=600)
    assert result.returncode == 0, result.stderr
    assert f"selected  {stream}" in result.stdout
    catalog = json.loads(output.read_text())
    (entry,) = [s for s in catalog["streams"] if s["tap_stream_id"] == stream]
    chosen = {
        e["breadcrumb"][1]
        for e in entry["metadata"]
        if e["breadcrumb"] and e["metadata"].get("selected")
    }
    assert chosen == {"id"}


def test_install_failure_shows_the_installer_output_and_leaves_nothing(tmp_path, dativo, env):
    (tmp_path / "registry.yaml").write_text("""
connectors:
  - {name: tap-broken, type: source, engine: singer, executable: tap-broken,
     pip_url: dativo-no-such-package-xyz==9.9.9}
""")
    env = {**env, "DATIVO_CONNECTORS_DIR": str(tmp_path / "connectors")}
    result = dativo("install", "tap-broken", env=env, timeout=300)
    assert result.returncode == 1
    assert "dativo-no-such-package-xyz" in result.stderr and "No solution found" in result.stderr
    assert not list((tmp_path / "connectors").glob("tap-broken*"))
    listed = dativo("connectors", "list", env=env)
    assert "tap-broken" in listed.stdout
