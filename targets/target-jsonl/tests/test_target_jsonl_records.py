"""What lands in the files: records as received, schema changes, validate_records, _sdc
metadata, gzip, rotation by size, BATCH messages."""

from __future__ import annotations

import gzip
import json
import time
from datetime import datetime
from pathlib import Path

import pytest

EVENTS = {
    "id": {"type": "integer"},
    "ts": {"type": ["string", "null"], "format": "date-time"},
    "amount": {"type": "number"},
    "items": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}},
            "required": ["sku"],
        },
    },
    "status": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
}


def events(jsonl, *records: dict) -> bytes:
    messages = [jsonl.schema("events", **EVENTS)]
    messages += [{"type": "RECORD", "stream": "events", "record": r} for r in records]
    return jsonl.encode(*messages)


def test_a_50_mb_record_passes_intact(jsonl):
    big = {"id": 1, "name": "é" * 25_000_000}  # 50 MB of UTF-8 on one line
    record = {"type": "RECORD", "stream": "users", "record": big}
    result = jsonl.run(jsonl.encode(jsonl.schema(), record, jsonl.state(1)))
    assert result.returncode == 0, result.stderr
    assert jsonl.rows("users") == [big]
    assert jsonl.echoed(result) == [jsonl.state(1)["value"]]


@pytest.mark.parametrize("validate", [False, True])
def test_schema_changes_mid_stream_add_fields_and_widen_types(jsonl, validate: bool):
    integer, number, string = ({"type": name} for name in ("integer", "number", "string"))
    records = [
        {"id": 1, "name": "Ada"},
        {"id": 2, "name": "Grace", "score": 7},
        {"id": 3, "name": "Linus", "score": 7.5},
        {"id": 4, "name": "Ken", "score": "high", "email": "ken@example.com"},
    ]
    messages = [
        jsonl.schema(id=integer, name=string),
        {"type": "RECORD", "stream": "users", "record": records[0]},
        jsonl.schema(id=integer, name=string, score=integer),
        {"type": "RECORD", "stream": "users", "record": records[1]},
        jsonl.schema(id=integer, name=string, score=number),
        {"type": "RECORD", "stream": "users", "record": records[2]},
        jsonl.schema(id=integer, name=string, score=string, email=string),
        {"type": "RECORD", "stream": "users", "record": records[3]},
    ]
    result = jsonl.run(jsonl.encode(*messages), validate_records=validate)
    assert result.returncode == 0, result.stderr
    assert jsonl.rows("users") == records


def test_with_validation_a_type_mismatch_names_stream_key_and_field(jsonl):
    good = {"id": 4, "amount": 10, "ts": "2024-01-31T12:00:00Z"}
    result = jsonl.run(events(jsonl, good, {"id": 5, "amount": "12,50"}), validate_records=True)
    assert result.returncode == 1
    assert (
        b"input line 3: stream 'events', record with key {\"id\":5}: field 'amount' does not "
        b'fit the schema: expected number, got string "12,50"'
    ) in result.stderr
    assert jsonl.rows("events") == [good]


def test_without_validation_a_mismatched_record_is_written_as_received(jsonl):
    odd = {"id": 5, "amount": "12,50", "ts": "yesterday", "items": [{"qty": "x"}]}
    result = jsonl.run(events(jsonl, odd))
    assert result.returncode == 0, result.stderr
    assert jsonl.rows("events") == [odd]


@pytest.mark.parametrize(
    ("record", "field", "problem"),
    [
        ({"id": True}, "id", "expected integer, got boolean true"),
        ({"id": 1, "ts": "yesterday"}, "ts", 'expected a date-time string, got string "yesterday"'),
        ({"id": 1, "ts": "2024-02-30T00:00:00Z"}, "ts", "expected a date-time string"),
        ({"id": 1, "ts": "2024-01-31"}, "ts", "expected a date-time string"),
        ({"id": 1, "items": [{"sku": "a"}, {"sku": 7}]}, "items[1].sku", "expected string"),
        ({"id": 1, "items": [{"qty": 1}]}, "items[0].sku", "is required but missing"),
        ({"id": 1, "items": [{"sku": "a", "qty": 1.5}]}, "items[0].qty", "expected integer"),
        ({"id": 1, "items": {"sku": "a"}}, "items", "expected array, got object"),
        ({"id": 1, "status": [1]}, "status", "matches no alternative of anyOf/oneOf"),
    ],
)
def test_validation_finds_the_field_at_any_depth(jsonl, record: dict, field: str, problem: str):
    result = jsonl.run(events(jsonl, record), validate_records=True)
    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert f"stream 'events', record with key {{\"id\":{json.dumps(record['id'])}}}" in stderr
    assert f"field '{field}' does not fit the schema: {problem}" in stderr


def test_validation_accepts_every_valid_shape(jsonl):
    valid = [
        {"id": 1, "ts": "2024-01-31T12:00:00Z", "amount": 3},
        {"id": 2.0, "ts": "2024-01-31T12:00:00.123+01:00", "amount": 3.5},
        {"id": 3, "ts": "2024-01-31 12:00:00", "items": [{"sku": "a", "qty": 2}]},
        {"id": 4, "ts": None, "status": 5, "unknown": {"any": "thing"}},
        {"id": 5, "status": "shipped", "items": []},
    ]
    result = jsonl.run(events(jsonl, *valid), validate_records=True)
    assert result.returncode == 0, result.stderr
    assert jsonl.rows("events") == valid


def test_record_metadata_matches_singer_sdk_fields(jsonl):
    before_ms = time.time() * 1000
    messages = [
        jsonl.schema(),
        {
            "type": "RECORD",
            "stream": "users",
            "record": {"id": 1, "_sdc_deleted_at": "2024-01-31T00:00:00Z"},
            "time_extracted": "2024-01-31T12:00:00+00:00",
            "version": 1706700000,
        },
        jsonl.record(id_=2),
    ]
    result = jsonl.run(jsonl.encode(*messages), add_record_metadata=True)
    after_ms = time.time() * 1000
    assert result.returncode == 0, result.stderr
    first, second = jsonl.rows("users")
    assert first["_sdc_extracted_at"] == "2024-01-31T12:00:00+00:00"
    assert first["_sdc_table_version"] == 1706700000
    assert first["_sdc_deleted_at"] == "2024-01-31T00:00:00Z"
    assert (second["_sdc_extracted_at"], second["_sdc_table_version"]) == (None, None)
    assert second["_sdc_deleted_at"] is None
    for row in (first, second):
        assert set(row) - {"id"} == {
            "_sdc_extracted_at",
            "_sdc_received_at",
            "_sdc_batched_at",
            "_sdc_deleted_at",
            "_sdc_sequence",
            "_sdc_table_version",
            "_sdc_sync_started_at",
        }
        received = datetime.fromisoformat(row["_sdc_received_at"])
        batched = datetime.fromisoformat(row["_sdc_batched_at"])
        assert received.utcoffset().total_seconds() == 0
        assert batched <= received
        assert before_ms - 1 <= row["_sdc_sync_started_at"] <= row["_sdc_sequence"] <= after_ms
        assert row["_sdc_sequence"] == round(received.timestamp() * 1000)


def test_without_metadata_records_are_written_exactly_as_received(jsonl):
    record = {"id": 1, "name": "x", "_sdc_extracted_at": "kept"}
    message = {"type": "RECORD", "stream": "users", "record": record, "version": 3}
    result = jsonl.run(jsonl.encode(jsonl.schema(), message))
    assert result.returncode == 0, result.stderr
    assert jsonl.rows("users") == [record]


def test_gzip_files_round_trip(jsonl):
    messages = [jsonl.schema()]
    records = [{"id": n, "name": f"nom-{n}-é✓"} for n in range(1, 2001)]
    messages += [{"type": "RECORD", "stream": "users", "record": r} for r in records]
    result = jsonl.run(jsonl.encode(*messages), compression="gzip", batch_size_rows=1500)
    assert result.returncode == 0, result.stderr
    files = jsonl.published("users")
    assert [path.name.endswith(".jsonl.gz") for path in files] == [True, True]
    assert all(path.read_bytes()[:2] == b"\x1f\x8b" for path in files)
    assert jsonl.rows("users") == records  # read() decompresses each file whole


@pytest.mark.parametrize("compression", ["none", "gzip"])
def test_rotation_cuts_files_by_size_and_echoes_nothing(jsonl, compression: str):
    records = [{"id": n, "name": "x" * 40} for n in range(1, 101)]
    messages = [jsonl.schema(), jsonl.state(0)]
    messages += [{"type": "RECORD", "stream": "users", "record": r} for r in records]
    messages.append(jsonl.state(100))
    result = jsonl.run(
        jsonl.encode(*messages),
        compression=compression,
        max_file_size_mb=0.001,  # 1,000 bytes of JSON lines
        max_batch_age_seconds=3600,
    )
    assert result.returncode == 0, result.stderr
    assert jsonl.echoed(result) == [jsonl.state(0)["value"], jsonl.state(100)["value"]]
    files = jsonl.published("users")
    assert len(files) == 6  # 100 lines of 59-61 bytes, 17 or so to a file
    contents = [
        gzip.decompress(path.read_bytes()) if compression == "gzip" else path.read_bytes()
        for path in files
    ]
    for content in contents[:-1]:
        last_line = content.splitlines(keepends=True)[-1]
        assert len(content) >= 1000 > len(content) - len(last_line)
    assert len(contents[-1]) <= 1000
    assert jsonl.rows("users") == records


def write_batch_file(path: Path, records: list[dict], compressed: bool) -> str:
    data = b"".join(json.dumps(record).encode() + b"\n" for record in records)
    path.write_bytes(gzip.compress(data) if compressed else data)
    return path.as_uri()


@pytest.mark.parametrize("compression", ["none", "gzip"])
def test_batch_messages_load_every_manifest_file(jsonl, tmp_path: Path, compression: str):
    compressed = compression == "gzip"
    first = write_batch_file(tmp_path / "b1", [{"id": 1}, {"id": 2}], compressed)
    second = write_batch_file(tmp_path / "b2", [{"id": 3}], compressed)
    batch = {
        "type": "BATCH",
        "stream": "users",
        "encoding": {"format": "jsonl", "compression": compression},
        "manifest": [first, second],
    }
    result = jsonl.run(jsonl.encode(jsonl.schema(), batch, jsonl.state(3)))
    assert result.returncode == 0, result.stderr
    assert jsonl.rows("users") == [{"id": 1}, {"id": 2}, {"id": 3}]
    assert jsonl.echoed(result) == [jsonl.state(3)["value"]]


@pytest.mark.parametrize(
    ("encoding", "url", "problem"),
    [
        ({"format": "parquet"}, None, "BATCH encoding {'format': 'parquet'} is not supported"),
        ({"format": "jsonl"}, "s3://bucket/b1", "is not local (only file:// URLs)"),
        ({"format": "jsonl"}, "file:///nonexistent/b1", "cannot read BATCH file"),
        ({"format": "jsonl"}, "bad-record", "line 2: RECORD for stream 'users' lacks key"),
    ],
)
def test_unusable_batch_fails_naming_the_problem(
    jsonl, tmp_path: Path, encoding: dict, url: str | None, problem: str
):
    if url in (None, "bad-record"):
        url = write_batch_file(tmp_path / "b1", [{"id": 1}, {"name": "no id"}], False)
    batch = {"type": "BATCH", "stream": "users", "encoding": encoding, "manifest": [url]}
    result = jsonl.run(jsonl.encode(jsonl.schema(), batch))
    assert result.returncode == 1
    assert b"input line 2: " in result.stderr
    assert problem.encode() in result.stderr
