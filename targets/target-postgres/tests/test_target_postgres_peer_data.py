"""Peers' own test streams (see data/peers/README.md) that once exposed defects here."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

PEERS = Path(__file__).parent / "data" / "peers"
MELTANOLABS_TARGET = "meltanolabs-target-postgres==0.8.1"


def test_validation_accepts_a_left_out_optional_property(pg):
    """meltanolabs' optional_attributes.singer under validate_records (Meltano Hub's default)."""
    result = pg.load((PEERS / "optional_attributes.singer").read_bytes(), validate_records=True)
    assert pg.echoed(result) == [{"test_optional_attributes": 4}]
    assert pg.query("SELECT id, optional FROM {schema}.test_optional_attributes ORDER BY id") == [
        (1, "This is optional"),
        (2, None),
        (3, "Also optional"),
        (4, None),
    ]


def test_validation_refuses_a_record_without_a_required_property(pg):
    """singer-sdk's record_missing_required_property.singer."""
    stdin = (PEERS / "record_missing_required_property.singer").read_bytes()
    result = pg.run(stdin, validate_records=True)
    assert result.returncode == 1
    assert "input line 2" in result.stderr.decode()
    assert "field 'id': is required but missing" in result.stderr.decode()


def test_loads_into_jsonb_arrays_made_by_meltanolabs(pg, pypi_connector):
    """tap_countries.singer into the tables meltanolabs-target-postgres made from it, whose
    ``languages`` column is ``jsonb[]``: every row loads again, equal."""
    stdin = (PEERS / "tap_countries.singer").read_bytes()
    peer = pypi_connector(MELTANOLABS_TARGET, "target-postgres")
    config = pg.config()
    made = subprocess.run(
        [peer, "--config", str(config)], input=stdin, capture_output=True, timeout=120
    )
    assert made.returncode == 0, made.stderr.decode()[-3000:]
    kind = pg.query(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attname = 'languages'",
        (f'"{pg.schema}".countries',),
    )
    assert kind == [("jsonb[]",)]
    before = pg.query("SELECT code, languages FROM {schema}.countries ORDER BY code")
    pg.load(stdin, config=config)
    assert pg.query("SELECT code, languages FROM {schema}.countries ORDER BY code") == before
    assert len(before) == 250 and any(json.dumps(languages) != "[]" for _, languages in before)
