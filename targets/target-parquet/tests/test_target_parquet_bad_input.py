"""Bad input fails with the line number, after committing (and confirming) what came before."""

from __future__ import annotations

import gzip
import json

import pytest


def test_malformed_line_fails_with_its_number_after_committing_what_came_before(parquet):
    good = parquet.encode(
        parquet.schema(), parquet.record(id_=1), parquet.state(1), parquet.record(id_=2)
    )
    stream = good + b'{"type": "RECORD", "stream":\n' + parquet.encode(parquet.state(2))
    result = parquet.run(stream, max_batch_age_seconds=3600)
    assert result.returncode == 1
    assert b"input line 5: not valid JSON" in result.stderr
    assert [row["id"] for row in parquet.rows()] == [1, 2]
    assert parquet.echoed(result) == [parquet.state(1)["value"]]
    assert parquet.tmp_files() == []


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ({"type": "RECORD", "stream": "orders", "record": {"id": 1}}, b"'orders' arrived before"),
        ({"stream": "users", "record": {}}, b'message has no "type"'),
        ({"type": "RECORD", "stream": "users", "record": {"name": "x"}}, b"key property 'id'"),
        ({"type": "RECORD", "stream": "users", "record": {"id": None}}, b"key property 'id'"),
        ({"type": "RECORD", "stream": "users", "record": [1]}, b'no "record" object'),
        ({"type": "RECORD", "record": {"id": 1}}, b'RECORD has no "stream"'),
        ({"type": "STATE"}, b'STATE has no "value"'),
        ({"type": "SCHEMA", "stream": "x", "schema": {}}, b'"properties"'),
        ({"type": "SCHEMA", "stream": "../x", "schema": {}}, b"cannot be used as a folder"),
        ({"type": "SCHEMA", "stream": ".hidden", "schema": {}}, b"cannot be used as a folder"),
        (
            {
                "type": "SCHEMA",
                "stream": "x",
                "schema": {"properties": {"a": {"type": "string"}}},
                "key_properties": ["id"],
            },
            b"key properties ['id'] are not in the schema",
        ),
        (
            {"type": "SCHEMA", "stream": "x", "schema": {"properties": {"a": {"type": "decimal"}}}},
            b"property 'a' has unknown type 'decimal'",
        ),
    ],
)
def test_bad_messages_fail_naming_their_line(parquet, message: dict, expected: bytes):
    stream = parquet.encode(parquet.schema(), parquet.record(id_=1), message)
    result = parquet.run(stream)
    assert result.returncode == 1, result.stderr
    assert b"input line 3: " in result.stderr
    assert expected in result.stderr
    assert parquet.rows() == [{"id": 1, "name": None}]  # what came before is committed


def test_unknown_message_types_warn_once_and_activate_version_is_ignored(parquet):
    odd = {"type": "SOMETHING_NEW", "stream": "users"}
    stream = parquet.encode(
        parquet.schema(),
        odd,
        {"type": "ACTIVATE_VERSION", "stream": "users", "version": 1},
        parquet.record(id_=1),
        odd,
    )
    result = parquet.run(stream)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count(b"warning") == 1
    assert b"input line 2: ignoring messages of unknown type 'SOMETHING_NEW'" in result.stderr
    assert parquet.rows() == [{"id": 1, "name": None}]


def test_blank_lines_are_skipped(parquet):
    stream = parquet.encode(parquet.schema()) + b"\n  \n" + parquet.encode(parquet.record(id_=1))
    result = parquet.run(stream)
    assert result.returncode == 0, result.stderr
    assert parquet.rows() == [{"id": 1, "name": None}]


def test_batch_messages_read_local_jsonl_files(parquet, tmp_path):
    plain = tmp_path / "users-1.jsonl"
    plain.write_text('{"id": 1, "name": "a"}\n{"id": 2}\n')
    packed = tmp_path / "users-2.jsonl.gz"
    packed.write_bytes(gzip.compress(b'{"id": 3, "name": "c"}\n'))
    batches = [
        {"encoding": {"format": "jsonl", "compression": "none"}, "manifest": [str(plain)]},
        {"encoding": {"format": "jsonl", "compression": "gzip"}, "manifest": [packed.as_uri()]},
    ]
    stream = parquet.encode(
        parquet.schema(),
        *({"type": "BATCH", "stream": "users", **batch} for batch in batches),
        parquet.state(3),
    )
    result = parquet.run(stream)
    assert result.returncode == 0, result.stderr
    assert parquet.rows() == [
        {"id": 1, "name": "a"},
        {"id": 2, "name": None},
        {"id": 3, "name": "c"},
    ]
    assert parquet.echoed(result) == [parquet.state(3)["value"]]


def test_a_batch_file_that_cannot_be_read_fails_naming_it(parquet, tmp_path):
    missing = tmp_path / "nope.jsonl"
    batch = {"encoding": {"format": "jsonl"}, "manifest": [str(missing)]}
    result = parquet.run(
        parquet.encode(parquet.schema(), {"type": "BATCH", "stream": "users", **batch})
    )
    assert result.returncode == 1
    assert b"input line 2: cannot read BATCH file" in result.stderr
    assert json.dumps(str(missing)).encode()[1:-1] in result.stderr
