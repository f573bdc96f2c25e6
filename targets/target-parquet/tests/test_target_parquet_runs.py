"""Runs of compact RECORD lines, parsed by Arrow's JSON reader, give the files (and warnings,
and errors) that the same messages give read one by one: each case runs both ways."""

from __future__ import annotations

import typing as t

import pytest

MIN_RUN = 256  # target_parquet.target.MIN_RUN: shorter runs are decoded record by record

PROPERTIES = {
    "id": {"type": "integer"},
    "amount": {"type": ["null", "number"]},
    "active": {"type": "boolean"},
    "name": {"type": ["string", "null"]},
    "ts": {"type": ["null", "string"], "format": "date-time"},
    "day": {"type": "string", "format": "date"},
    "tags": {"type": "array", "items": {"type": "string"}},
    "scores": {"type": ["array", "null"], "items": {"type": ["integer", "null"]}},
    "meta": {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "number"}},
    },
}
ZONES = ("Z", "+02:00", "", ".123456Z")


def record(number: int, **changes: t.Any) -> dict[str, t.Any]:
    fields = {
        "amount": None if number % 5 == 0 else number / 8,
        "active": number % 2 == 0,
        "name": f'n\u00e9{number}\\"',
        "ts": f"2024-03-01T10:20:{number % 60:02d}{ZONES[number % 4]}",
        "day": f"2024-03-{number % 28 + 1:02d}",
        "tags": ["a"] * (number % 3),
        "scores": [number, None] if number % 2 else None,
        "meta": {"a": number, "b": 0.5} if number % 3 else {"a": number},
    }
    return {"type": "RECORD", "stream": "users", "record": {"id": number, **fields, **changes}}


def records(first: int, last: int, odd: dict[int, dict[str, t.Any]] | None = None) -> list:
    odd = odd or {}
    return [record(number, **odd.get(number, {})) for number in range(first, last + 1)]


def both_ways(parquet: t.Any, messages: list[dict[str, t.Any]], **settings: t.Any) -> t.Any:
    """``run_both_ways`` comparing the tables written (schemas and rows); structs kept."""

    def clear() -> None:
        for path in parquet.files():
            path.unlink()

    def read() -> list[tuple[t.Any, list[dict[str, t.Any]]]]:
        return [(table.schema, table.to_pylist()) for table in parquet.tables()]

    return parquet.run_both_ways(messages, read, clear, nested_as_json=False, **settings)


def test_typed_columns_from_long_runs(parquet):
    messages = [parquet.schema(**PROPERTIES), *records(1, 400), parquet.state(400)]
    result = both_ways(parquet, messages + records(401, 700) + [parquet.state(700)])
    assert result.returncode == 0, result.stderr.decode()
    (table,) = parquet.tables()
    assert table.num_rows == 700
    assert str(table.schema.field("ts").type) == "timestamp[us, tz=UTC]"
    assert str(table.schema.field("meta").type) == "struct<a: int64, b: double>"


@pytest.mark.parametrize(
    "odd",
    [
        {350: {"amount": "abc"}},  # a misfit: the column is stored as text, with a warning
        {350: {"undeclared": 1}},  # dropped, with a warning
        {350: {"id": 2.0}},  # an integral float is an integer
        {350: {"ts": "yesterday"}},  # a date-time that does not parse: text
        {350: {"active": 1}},  # not a boolean: text
        {350: {"scores": [1.5]}},  # a list item that does not fit: JSON text
        {MIN_RUN + 20: {"amount": "abc"}},  # ... in the short run after a long one
    ],
)
def test_values_the_per_record_path_decides(parquet, odd):
    messages = [parquet.schema(**PROPERTIES), *records(1, 300, odd), parquet.state(300)]
    messages += records(301, 300 + MIN_RUN + 40, odd)
    result = both_ways(parquet, messages)
    assert result.returncode == 0, result.stderr.decode()


@pytest.mark.parametrize(
    "odd",
    [
        {350: {"amount": "abc"}},
        {350: {"name": None, "ts": None}},  # fine: both nullable
    ],
)
def test_validate_records_in_long_runs(parquet, odd):
    messages = [parquet.schema(**PROPERTIES), *records(1, 400, odd), parquet.state(400)]
    both_ways(parquet, messages, validate_records=True)


def test_a_required_field_left_out_of_a_long_run(parquet):
    schema = parquet.schema(**PROPERTIES)
    schema["schema"]["required"] = ["id", "day"]
    messages = [schema, *records(1, 300), parquet.state(300), *records(301, 700)]
    del messages[500]["record"]["day"]
    result = both_ways(parquet, messages, validate_records=True)
    parquet.assert_failed(result, 1, "field 'day': required but missing")
    assert parquet.echoed(result) == []  # one batch: nothing committed
    without = both_ways(parquet, messages)  # without validation: null
    assert without.returncode == 0, without.stderr.decode()


def test_runs_longer_than_a_block_and_a_record_longer_than_one(parquet):
    """Arrow parses a run in blocks of 512 KiB; a record spanning more than two of them makes
    it parse the run whole."""
    long_name = "x" * (1100 << 10)
    messages = [parquet.schema(**PROPERTIES), *records(1, 4000, {2500: {"name": long_name}})]
    result = both_ways(parquet, messages)
    assert result.returncode == 0, result.stderr.decode()
    names = [row["name"] for row in parquet.rows()]
    assert len(names) == 4000 and names[2499] == long_name and names[3999] == 'n\u00e94000\\"'
