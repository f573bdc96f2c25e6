"""tap-postgres piped by hand into our target-jsonl and the community target-jsonl."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

ROWS = 2_500


@pytest.fixture
def accounts(pg, pg_schema: str) -> str:
    pg.execute(
        f"""
        CREATE TABLE "{pg_schema}".accounts (
            id int PRIMARY KEY, name text, balance numeric(12, 2), opened timestamptz,
            tags text[], profile jsonb, avatar bytea, active boolean
        );
        INSERT INTO "{pg_schema}".accounts
        SELECT g, 'name ' || g, g / 4.0,
               timestamptz '2024-03-01 12:00:00+00' + g * interval '1 minute',
               CASE WHEN g % 2 = 0 THEN ARRAY['even', 'n' || g] END,
               jsonb_build_object('n', g, 'nested', jsonb_build_object('ok', g % 3 = 0)),
               CASE WHEN g % 5 = 0 THEN '\\x0aff'::bytea END, g % 7 = 0
        FROM generate_series(1, {ROWS}) AS g;
        """
    )
    return f"{pg_schema}-accounts"


def expected(n: int) -> dict:
    minutes = 12 * 60 + n
    return {
        "id": n,
        "name": f"name {n}",
        "balance": Decimal(n) / 4,
        "opened": f"2024-03-{1 + minutes // 1440:02d}T{minutes // 60 % 24:02d}:{minutes % 60:02d}"
        ":00+00:00",
        "tags": ["even", f"n{n}"] if n % 2 == 0 else None,
        "profile": {"n": n, "nested": {"ok": n % 3 == 0}},
        "avatar": "Cv8=" if n % 5 == 0 else None,
        "active": n % 7 == 0,
    }


def pipe(tap, target: str, target_config: dict, folder: Path) -> list[str]:
    """``tap --config tap.json | target --config target.json``; returns the target's stdout."""
    tap_config = tap.write("tap.json", tap.config)
    target_config_path = folder / "target.json"
    target_config_path.write_text(json.dumps(target_config))
    tap_log = folder / "tap.log"
    with (
        tap_log.open("wb") as log,
        subprocess.Popen(
            [tap.exe, "--config", str(tap_config)], stdout=subprocess.PIPE, stderr=log
        ) as producer,
    ):
        assert producer.stdout is not None
        consumer = subprocess.run(
            [target, "--config", str(target_config_path)],
            stdin=producer.stdout,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
        producer.stdout.close()
    assert producer.returncode == 0, tap_log.read_text()
    assert consumer.returncode == 0, consumer.stderr
    return consumer.stdout.splitlines()


def read_back(folder: Path, stream: str) -> list[dict]:
    files = sorted(folder.glob(f"{stream}*.jsonl"))
    assert files, f"no {stream}*.jsonl in {folder}"
    lines = [line for path in files for line in path.read_text().splitlines()]
    return [json.loads(line, parse_float=Decimal) for line in lines]


def check(rows: list[dict], states: list[str], stream: str) -> None:
    assert sorted(row["id"] for row in rows) == list(range(1, ROWS + 1))
    by_id = {row["id"]: row for row in rows}
    for n in (1, 2, 5, 7, 10, 1440, ROWS):
        assert by_id[n] == expected(n)
    final = json.loads(states[-1])
    assert final == {"bookmarks": {stream: {}}}


def test_into_our_target_jsonl(tap, connector_exe, accounts: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    states = pipe(tap, connector_exe("target-jsonl"), {"destination_path": str(out)}, tmp_path)
    check(read_back(out, accounts), states, accounts)


def test_into_community_target_jsonl(tap, pypi_connector, accounts: str, tmp_path: Path) -> None:
    target = pypi_connector("target-jsonl==0.1.4", "target-jsonl")  # validates every record
    out = tmp_path / "out"
    states = pipe(tap, target, {"destination_path": str(out)}, tmp_path)
    check(read_back(out, accounts), states, accounts)


EXACT_COLUMNS = "id, scaled, free, uid, ints, words, doc, ts, tstz, day, clock, span, blob, wide"


@pytest.fixture
def exact(pg, pg_schema: str) -> str:
    """A table of every type whose values must travel exactly, with awkward values (but no
    jsonb `null`: JSON cannot tell it from SQL NULL, so it arrives as NULL)."""
    pg.execute(
        f"""
        CREATE TABLE "{pg_schema}".exact (
            id int PRIMARY KEY, scaled numeric(30, 10), free numeric, uid uuid NOT NULL,
            ints int[], words text[], doc jsonb, ts timestamp, tstz timestamptz, day date,
            clock time, span interval, blob bytea, wide numeric(60, 20)
        );
        INSERT INTO "{pg_schema}".exact VALUES
        (1, 12345678901234567890.1234567890, 'NaN', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
         '{{1,NULL,-3}}', ARRAY['a b', NULL, 'c"d', 'é\\'], '{{"k": [1, 2.50, null]}}',
         '2024-02-29 13:14:15.123456', '2024-02-29 13:14:15.123456+02', '2024-02-29',
         '13:14:15.5', '1 year 2 months 3 days 04:05:06.5', '\\x000102ff',
         1234567890123456789012345678901234567890.12345678901234567890),
        (2, -0.0000000001, 123456789012345678901234567890.123456789012345678901234567890,
         'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12', '{{}}', '{{}}', '"text"', '0001-01-01',
         '1999-12-31 23:59:59+00', '0001-01-01', '00:00', '-5 minutes', '', 0.1),
        (3, 0.1, 1e-30, 'c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13', NULL, NULL, '[]', NULL,
         NULL, NULL, NULL, NULL, NULL, NULL),
        (4, NULL, NULL, 'd0eebc99-9c0b-4ef8-bb6d-6bb9bd380a14', NULL, NULL, NULL, NULL, NULL,
         NULL, NULL, NULL, NULL, NULL)
        """
    )
    return f"{pg_schema}-exact"


def test_exact_types_into_target_postgres(
    tap, pg, pg_schema: str, connector_exe, exact: str, tmp_path: Path
) -> None:
    """Every value and column type equal to the source's (EXCEPT both ways), NOT NULL kept."""
    out = f"{pg_schema}_out"
    config = {**tap.config, "default_target_schema": out, "add_record_metadata": False}
    config.pop("filter_schemas")
    try:
        pipe(tap, connector_exe("target-postgres"), config | {"validate_records": True}, tmp_path)
        for first, second in ((pg_schema, out), (out, pg_schema)):
            missing = pg.execute(
                f'SELECT {EXACT_COLUMNS} FROM "{first}".exact '
                f'EXCEPT SELECT {EXACT_COLUMNS} FROM "{second}".exact'
            ).fetchall()
            assert missing == [], f"rows of {first} not in {second}"
        types = """
            SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute
            WHERE attrelid = %s::regclass AND attnum > 0 ORDER BY attnum"""
        source = pg.execute(types, (f'"{pg_schema}".exact',)).fetchall()
        assert pg.execute(types, (f'"{out}".exact',)).fetchall() == source
        texts = "SELECT scaled::text, free::text, wide::text FROM {}.exact ORDER BY id"
        assert (
            pg.execute(texts.format(f'"{out}"')).fetchall()
            == pg.execute(texts.format(f'"{pg_schema}"')).fetchall()
        )  # the same digits, trailing zeros included
    finally:
        pg.execute(f'DROP SCHEMA IF EXISTS "{out}" CASCADE')


def test_exact_types_into_target_parquet(
    tap, pg, pg_schema: str, connector_exe, exact: str, tmp_path: Path
) -> None:
    """Exact Arrow types; every value equal to the source's."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = tmp_path / "out"
    config = {"destination_path": str(out), "validate_records": True}
    pipe(tap, connector_exe("target-parquet"), config, tmp_path)
    (path,) = (out / exact).rglob("*.parquet")
    table = pq.read_table(path)
    assert {field.name: field.type for field in table.schema} == {
        "id": pa.int64(),
        "scaled": pa.decimal128(30, 10),
        "free": pa.string(),
        "uid": pa.uuid(),
        "ints": pa.list_(pa.int64()),
        "words": pa.list_(pa.string()),
        "doc": pa.string(),
        "ts": pa.timestamp("us"),
        "tstz": pa.timestamp("us", tz="UTC"),
        "day": pa.date32(),
        "clock": pa.time64("us"),
        "span": pa.string(),
        "blob": pa.binary(),
        "wide": pa.decimal256(60, 20),
    }
    rows = sorted(table.to_pylist(), key=lambda row: row["id"])
    pg.execute("SET IntervalStyle TO 'iso_8601'")
    source = pg.execute(
        f"SELECT id, scaled, free::text, uid, ints, words, doc, ts, tstz, day, clock, "
        f'span::text, blob, wide FROM "{pg_schema}".exact ORDER BY id'
    ).fetchall()
    for row, expected_row in zip(rows, source, strict=True):
        got = dict(row, doc=None if row["doc"] is None else json.loads(row["doc"]))
        assert tuple(got.values()) == expected_row


def test_exact_decimals_into_target_jsonl(tap, connector_exe, exact: str, tmp_path: Path) -> None:
    """target-jsonl writes a decimal field's digits as received (trailing zeros included)."""
    out = tmp_path / "out"
    pipe(tap, connector_exe("target-jsonl"), {"destination_path": str(out)}, tmp_path)
    text = "".join(path.read_text() for path in out.glob(f"{exact}*.jsonl"))
    assert '"scaled":12345678901234567890.1234567890,' in text
    assert '"free":123456789012345678901234567890.123456789012345678901234567890,' in text
    assert '"wide":1234567890123456789012345678901234567890.12345678901234567890' in text
    assert '"free":"NaN"' in text


def test_exact_types_into_validating_meltanolabs_target_postgres(
    tap, pg, pg_schema: str, pypi_connector, exact: str, tmp_path: Path
) -> None:
    """The annotations keep a community target working: meltanolabs-target-postgres with
    validate_records (Meltano Hub's default) takes every row, decimals exact. (Not NaN: JSON
    has no number for it, and a string fails its `number` validation; see the README.)"""
    target = pypi_connector("meltanolabs-target-postgres==0.8.1", "target-postgres")
    pg.execute(f"UPDATE \"{pg_schema}\".exact SET free = 0.29 WHERE free = 'NaN'")
    out = f"{pg_schema}_peer"
    config = {**tap.config, "default_target_schema": out, "validate_records": True}
    config.pop("filter_schemas")
    try:
        pipe(tap, target, {**config, "password": config.get("password", "unused")}, tmp_path)
        texts = "SELECT id, scaled::text, free::text, uid::text FROM {}.exact ORDER BY id"
        assert pg.execute(texts.format(f'"{out}"')).fetchall() == (
            pg.execute(texts.format(f'"{pg_schema}"')).fetchall()
        )
    finally:
        pg.execute(f'DROP SCHEMA IF EXISTS "{out}" CASCADE')
