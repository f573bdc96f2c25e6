"""Compact RECORD lines reach target-jsonl in runs and are written as received: the same
files, errors and warnings as the same messages read one by one, and the bytes of each record
exactly as the tap wrote them."""

from __future__ import annotations

import typing as t

import pytest

RAW = (
    b'{"id":1,"amount":1.10,"big":12345678901234567890.1234567890,"e":1E+2,"s":"\\u00e9\xc3\xa9"}',
    b'{ "id" : 2 , "amount":-0.0,"nested":{"z":[1.50,{"a":null}]},"s":"tab\\tquote\\""}',
)


def run_both_ways(jsonl: t.Any, messages: list[dict[str, t.Any]], **settings: t.Any) -> t.Any:
    """``run_both_ways`` comparing the files published, byte for byte."""

    def clear() -> None:
        for path in jsonl.published():
            path.unlink()

    def read() -> list[bytes]:
        return [path.read_bytes() for path in jsonl.published()]

    return jsonl.run_both_ways(messages, read, clear, **settings)


def test_records_are_written_byte_for_byte_as_received(jsonl):
    start = b'{"type":"RECORD","stream":"users","record":'
    stdin = jsonl.compact(jsonl.schema()) + b"".join(start + raw + b"}\n" for raw in RAW)
    result = jsonl.run(stdin)
    assert result.returncode == 0, result.stderr
    (path,) = jsonl.published("users")
    assert path.read_bytes() == b"\n".join(RAW) + b"\n"


def test_rotation_by_size_cuts_runs_at_the_same_lines(jsonl):
    records = [jsonl.record(id_=n, name="x" * (n % 50)) for n in range(1, 1001)]
    messages = [jsonl.schema(), *records[:600], jsonl.state(600), *records[600:]]
    result = run_both_ways(jsonl, messages, max_file_size_mb=0.01, batch_size_rows=700)
    assert result.returncode == 0, result.stderr
    assert len(jsonl.published("users")) > 3


def test_rotation_by_size_cuts_alike_when_runs_follow_records_read_one_by_one(jsonl):
    records = [jsonl.record(id_=n, name="x" * (n % 50)) for n in range(1, 1001)]
    mixed = jsonl.encode(jsonl.schema())
    for start in range(0, 1000, 250):  # spaced lines (read one by one), then a run's worth
        mixed += jsonl.encode(*records[start : start + 50])
        mixed += jsonl.compact(*records[start + 50 : start + 250])
    result = jsonl.run(jsonl.encode(jsonl.schema(), *records), max_file_size_mb=0.01)
    assert result.returncode == 0, result.stderr
    files = [path.read_bytes() for path in jsonl.published()]
    for path in jsonl.published():
        path.unlink()
    result = jsonl.run(mixed, max_file_size_mb=0.01)
    assert result.returncode == 0, result.stderr
    assert [path.read_bytes() for path in jsonl.published()] == files
    assert len(files) > 3


@pytest.mark.parametrize("keys", [("id",), ("id", "name"), ()])
def test_runs_of_any_number_of_key_properties_are_written(jsonl, keys: tuple[str, ...]):
    records = [jsonl.record(id_=n, name=f"n{n}") for n in range(1, 301)]
    result = run_both_ways(jsonl, [jsonl.schema(keys=keys), *records])
    assert result.returncode == 0, result.stderr
    assert len(jsonl.rows("users")) == 300


@pytest.mark.parametrize(
    ("keys", "bad", "problem"),
    [
        (("id",), {"name": "x"}, "lacks key property 'id'"),
        (("id",), {"id": None}, "lacks key property 'id'"),
        (("id", "name"), {"id": 4, "name": None}, "lacks key property 'name'"),
        (("id", "name"), {"id": 4}, "lacks key property 'name'"),
        (("id",), [4], 'has no "record" object'),
        ((), "4", 'has no "record" object'),
    ],
)
def test_a_bad_record_fails_in_a_run_as_record_by_record(
    jsonl, keys: tuple[str, ...], bad: t.Any, problem: str
):
    records = [jsonl.record(id_=n, name=f"n{n}") for n in range(1, 7)]
    records[3]["record"] = bad
    result = run_both_ways(jsonl, [jsonl.schema(keys=keys), *records])
    jsonl.assert_failed(result, 1, f"input line 5: RECORD for stream 'users' {problem}")
    assert len(jsonl.rows("users")) == 3


def test_validation_fails_in_a_long_run_as_record_by_record(jsonl):
    records = [jsonl.record(id_=n, name=f"n{n}") for n in range(1, 501)]
    records[400]["record"]["name"] = 7
    messages = [jsonl.schema(), *records[:300], jsonl.state(300), *records[300:]]
    result = run_both_ways(jsonl, messages, validate_records=True)
    jsonl.assert_failed(
        result, 1, "input line 403: stream 'users', record with key {\"id\":401}: field 'name'"
    )
    assert len(jsonl.rows("users")) == 400


def test_record_metadata_is_added_to_compact_lines(jsonl):
    messages = [jsonl.schema(), *(jsonl.record(id_=n) for n in range(1, 301))]
    result = jsonl.run(jsonl.compact(*messages), add_record_metadata=True)
    assert result.returncode == 0, result.stderr
    rows = jsonl.rows("users")
    assert len(rows) == 300
    assert all(row["_sdc_received_at"] and row["_sdc_sequence"] for row in rows)
