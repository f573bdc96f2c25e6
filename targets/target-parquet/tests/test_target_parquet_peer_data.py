"""singer-sdk's own target test streams (see data/peers/README.md) under validate_records."""

from __future__ import annotations

from pathlib import Path

PEERS = Path(__file__).parent / "data" / "peers"


def test_validation_refuses_a_record_without_a_required_property(parquet):
    stdin = (PEERS / "record_missing_required_property.singer").read_bytes()
    result = parquet.run(stdin, validate_records=True)
    assert result.returncode == 1
    assert b"field 'id': required but missing" in result.stderr
    assert parquet.files("test_record_missing_required_property") == []


def test_without_validation_the_missing_property_is_null(parquet):
    stdin = (PEERS / "record_missing_required_property.singer").read_bytes()
    result = parquet.run(stdin)
    assert result.returncode == 0, result.stderr.decode()
    assert parquet.rows("test_record_missing_required_property") == [{"id": None, "metric": 3215}]


def test_validation_accepts_a_left_out_optional_property(parquet):
    stdin = (PEERS / "optional_attributes.singer").read_bytes()
    result = parquet.run(stdin, validate_records=True)
    assert result.returncode == 0, result.stderr.decode()
    assert [row["optional"] for row in parquet.rows("test_optional_attributes")] == [
        "This is optional",
        None,
        "Also optional",
        None,
    ]
