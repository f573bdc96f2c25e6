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
