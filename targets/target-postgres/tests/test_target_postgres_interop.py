"""By-hand pipes from real taps: first-party tap-csv, community meltanolabs-tap-postgres."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict

TAP_POSTGRES = "meltanolabs-tap-postgres==0.10.0"


def pipe(tap: list[str], target: list[str]) -> tuple[int, int, bytes, bytes]:
    """Run ``tap | target`` like a shell; return both exit codes, the target's stdout and the
    stderr of both."""
    with subprocess.Popen(tap, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as source:
        result = subprocess.run(target, stdin=source.stdout, capture_output=True, timeout=120)
        tap_stderr = source.stderr.read() if source.stderr else b""
    return source.returncode, result.returncode, result.stdout, tap_stderr + result.stderr


def test_tap_csv_pipes_into_the_target(pg, connector_exe, tmp_path: Path):
    csv = tmp_path / "customers.csv"
    csv.write_text("id,name,city\n1,Ada,London\n2,Grace,Arlington\n3,Linus,Helsinki\n")
    tap_config = tmp_path / "tap.json"
    tap_config.write_text(
        json.dumps({"files": [{"entity": "customers", "path": str(csv), "keys": ["id"]}]})
    )
    command = [connector_exe("tap-csv"), "--config", str(tap_config)]
    target = [pg.executable, "--config", str(pg.config())]
    tap_code, target_code, stdout, stderr = pipe(command, target)
    assert (tap_code, target_code) == (0, 0), stderr.decode()
    assert stdout.strip(), "the target echoed no state"
    assert pg.query("SELECT id::text, name, city FROM {schema}.customers ORDER BY id") == [
        ("1", "Ada", "London"),
        ("2", "Grace", "Arlington"),
        ("3", "Linus", "Helsinki"),
    ]


SOURCE_TABLE = """
CREATE TABLE {source}.items (
    id serial PRIMARY KEY, name text, price numeric(10, 2), ok boolean, created timestamptz,
    day date, meta jsonb, tags text[], big bigint, ratio real, at time
)
"""
SOURCE_ROWS = """
INSERT INTO {source}.items (name, price, ok, created, day, meta, tags, big, ratio, at) VALUES
('a', 1.25, true, '2024-03-04 05:06:07+00', '2024-01-02', '{"x": [1, "y"]}', '{a,b}',
 9007199254740993, 1.5, '12:30:00'),
(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
"""


def test_meltanolabs_tap_postgres_output_loads(pg, pypi_connector, pg_dsn: str, tmp_path: Path):
    tap = pypi_connector(TAP_POSTGRES, "tap-postgres")
    source = f"{pg.schema}_src"
    with psycopg.connect(pg_dsn, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{source}"')
        connection.execute(SOURCE_TABLE.replace("{source}", f'"{source}"'))
        connection.execute(SOURCE_ROWS.replace("{source}", f'"{source}"'))
    try:
        params = conninfo_to_dict(pg_dsn)
        tap_config = tmp_path / "tap.json"
        tap_config.write_text(
            json.dumps(
                {
                    "host": params.get("host", "127.0.0.1"),
                    "port": int(params.get("port", 5432)),
                    "user": params.get("user", "postgres"),
                    "password": params.get("password", "unused"),
                    "database": params.get("dbname", "postgres"),
                    "filter_schemas": [source],
                }
            )
        )
        catalog = json.loads(
            subprocess.run(
                [tap, "--config", str(tap_config), "--discover"],
                capture_output=True,
                check=True,
                timeout=120,
            ).stdout
        )
        for stream in catalog["streams"]:
            for entry in stream["metadata"]:
                if entry["breadcrumb"] == []:
                    entry["selected"] = True
                    entry["metadata"]["selected"] = True
        catalog_file = tmp_path / "catalog.json"
        catalog_file.write_text(json.dumps(catalog))
        tap_command = [tap, "--config", str(tap_config), "--catalog", str(catalog_file)]
        tap_code, target_code, stdout, stderr = pipe(
            tap_command, [pg.executable, "--config", str(pg.config())]
        )
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{source}" CASCADE')
    assert (tap_code, target_code) == (0, 0), stderr.decode()[-3000:]
    assert json.loads(stdout.splitlines()[-1])["bookmarks"]
    assert {
        key: kind for key, kind in pg.column_types("items").items() if not key.startswith("_sdc")
    } == {
        "id": "bigint",
        "name": "text",
        "price": "double precision",
        "ok": "boolean",
        "created": "timestamp with time zone",
        "day": "date",
        "meta": "jsonb",
        "tags": "jsonb",
        "big": "bigint",
        "ratio": "double precision",
        "at": "time without time zone",
    }
    rows = pg.query(
        "SELECT id, name, price, ok, created, day, meta, tags, big, ratio, at, "
        "_sdc_extracted_at IS NOT NULL FROM {schema}.items ORDER BY id"
    )
    assert rows == [
        (
            1,
            "a",
            1.25,
            True,
            dt.datetime(2024, 3, 4, 5, 6, 7, tzinfo=dt.UTC),
            dt.date(2024, 1, 2),
            {"x": [1, "y"]},
            ["a", "b"],
            9007199254740993,
            1.5,
            dt.time(12, 30),
            True,
        ),
        (2, None, None, None, None, None, None, None, None, None, None, True),
    ]


MELTANOLABS_TARGET = "meltanolabs-target-postgres==0.8.1"


def test_tables_made_by_meltanolabs_target_postgres_load_unchanged(pg, pypi_connector):
    """Switching from meltanolabs by changing the executable: same config, same tables."""
    peer = pypi_connector(MELTANOLABS_TARGET, "target-postgres")
    properties = {
        "id": {"type": "integer"},
        "at": {"type": "string", "format": "date-time"},
        "price": {"type": "number"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "small": {"type": "integer", "minimum": 0, "maximum": 100},
    }
    first = pg.record("orders", id=1, at="2024-01-01T00:00:00Z", price=1.5, tags=["a"], small=1)
    config = pg.config()
    schema = pg.schema_message("public-orders", properties)
    made = subprocess.run(
        [peer, "--config", str(config)],
        input=pg.singer(schema, {**first, "stream": "public-orders"}),
        capture_output=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr.decode()[-3000:]
    kinds = pg.column_types("orders")
    assert kinds["at"] == "timestamp without time zone" and kinds["tags"] == "ARRAY"
    second = pg.record(
        "orders", id=2, at="2024-01-01T02:00:00+02:00", price=2.5, tags=["b", "c"], small=2
    )
    update = pg.record("orders", id=1, at="2024-01-01T00:00:00Z", price=9.5, tags=[], small=3)
    pg.load(
        pg.singer(schema, *({**m, "stream": "public-orders"} for m in (second, update))),
        config=config,
    )
    assert pg.column_types("orders") == kinds  # nothing altered
    assert pg.query("SELECT id, at, price, tags, small FROM {schema}.orders ORDER BY id") == [
        (1, dt.datetime(2024, 1, 1), 9.5, [], 3),
        (2, dt.datetime(2024, 1, 1), 2.5, ["b", "c"], 2),
    ]
