"""Bad input fails with the line number; what came before it is committed, nothing earlier lost."""

from __future__ import annotations

import pytest


def test_malformed_line_fails_with_its_number_after_committing_what_came_before(jsonl):
    jsonl.run(jsonl.encode(jsonl.schema(), jsonl.record(id_=0), jsonl.state(0)))
    [earlier] = jsonl.published()
    earlier_bytes = earlier.read_bytes()

    good = jsonl.encode(jsonl.schema(), jsonl.record(id_=1), jsonl.state(1), jsonl.record(id_=2))
    result = jsonl.run(
        good + b'{"type": "RECORD", "stream":\n' + jsonl.encode(jsonl.state(2)),
        max_batch_age_seconds=3600,
    )
    assert result.returncode == 1
    assert b"InputError: input line 5: not valid JSON" in result.stderr
    assert earlier.read_bytes() == earlier_bytes
    assert [row["id"] for row in jsonl.rows("users")] == [0, 1, 2]
    assert jsonl.echoed(result) == [jsonl.state(1)["value"]]
    assert jsonl.parts() == []


def test_record_before_schema_fails_naming_stream_and_line(jsonl):
    result = jsonl.run(jsonl.encode(jsonl.schema("users"), jsonl.record("orders", 1)))
    assert result.returncode == 1
    assert b"input line 2: RECORD for stream 'orders' arrived before its SCHEMA" in result.stderr


def test_missing_key_property_fails_naming_stream_key_and_line(jsonl):
    keyless = {"type": "RECORD", "stream": "users", "record": {"name": "Ada"}}
    result = jsonl.run(jsonl.encode(jsonl.schema(), jsonl.record(id_=1), keyless))
    assert result.returncode == 1
    assert b"input line 3: RECORD for stream 'users' lacks key property 'id'" in result.stderr
    assert jsonl.rows("users") == [{"id": 1}]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b'{"stream": "users", "record": {}}', b'message has no "type"'),
        (b"[1, 2]", b"not a Singer message (expected a JSON object)"),
        (b'{"type": "RECORD", "record": {"id": 1}}', b'RECORD has no "stream"'),
        (b'{"type": "RECORD", "stream": ["users"]}', b'RECORD has no "stream"'),
        (b'{"type": "RECORD", "stream": "users", "record": 7}', b'has no "record" object'),
        (b'{"type": "STATE"}', b'STATE has no "value"'),
        (b'{"type": "SCHEMA", "stream": "x", "schema": 1}', b'has no "schema" object'),
        (
            b'{"type": "SCHEMA", "stream": "x", "schema": {}, "key_properties": "id"}',
            b"key_properties must be a list of field names",
        ),
        (b'{"type": "SCHEMA", "stream": "../users", "schema": {}}', b"'../users'"),
        (b'{"type": "SCHEMA", "stream": ".hidden", "schema": {}}', b"'.hidden'"),
    ],
)
def test_unusable_message_fails_with_its_line_number(jsonl, line: bytes, problem: bytes):
    result = jsonl.run(jsonl.encode(jsonl.schema()) + line + b"\n")
    assert result.returncode == 1
    assert b"input line 2: " in result.stderr
    assert problem in result.stderr
    assert sorted(path.name for path in jsonl.tmp_path.iterdir()) == ["out", "target.json"]


def test_unknown_type_warns_once_and_succeeds(jsonl):
    odd = {"type": "SOMETHING_NEW", "stream": "users"}
    result = jsonl.run(jsonl.encode(jsonl.schema(), odd, jsonl.record(id_=1), odd))
    assert result.returncode == 0, result.stderr
    assert result.stderr.count(b"warning") == 1
    assert b"input line 2: ignoring messages of unknown type 'SOMETHING_NEW'" in result.stderr
    assert jsonl.rows("users") == [{"id": 1}]


def test_blank_lines_are_skipped(jsonl):
    stream = jsonl.encode(jsonl.schema()) + b"\n  \n" + jsonl.encode(jsonl.record(id_=1))
    result = jsonl.run(stream)
    assert result.returncode == 0, result.stderr
    assert jsonl.rows("users") == [{"id": 1}]
