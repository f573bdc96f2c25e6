"""Runs of compact RECORD lines (parsed by Arrow when long enough, else decoded in one go)
commit the tables, states and errors that the same messages give read one by one: each case
runs both ways; a resumed run skips the first records of a run as it skips single records."""

from __future__ import annotations

import re
import typing as t

import pytest

MIN_RUN = 256  # target_parquet.target.MIN_RUN: shorter runs are decoded record by record

PROPERTIES = {
    "id": {"type": "integer"},
    "amount": {"type": ["null", "number"]},
    "active": {"type": "boolean"},
    "ts": {"type": ["null", "string"], "format": "date-time"},
    "tags": {"type": "array", "items": {"type": "string"}},
}
PRICED = {**PROPERTIES, "price": {"type": ["number", "null"], "x-sql-datatype": "numeric(38,18)"}}


def record(number: int, **changes: t.Any) -> dict[str, t.Any]:
    fields = {
        "amount": None if number % 5 == 0 else number / 8,
        "active": number % 2 == 0,
        "ts": f"2024-03-01T10:20:{number % 60:02d}Z",
        "tags": ["a"] * (number % 3),
    }
    return {"type": "RECORD", "stream": "users", "record": {"id": number, **fields, **changes}}


def records(first: int, last: int, odd: dict[int, dict[str, t.Any]] | None = None) -> list:
    odd = odd or {}
    return [record(number, **odd.get(number, {})) for number in range(first, last + 1)]


def both_ways(iceberg: t.Any, messages: list[dict[str, t.Any]], **settings: t.Any) -> t.Any:
    """``run_both_ways`` comparing the rows committed and the snapshots' marks."""

    def clear() -> None:
        catalog = iceberg.catalog()
        if iceberg.table() is not None:
            catalog.purge_table(("default", "users"))

    def read() -> tuple[list[dict[str, t.Any]], list[tuple[str, str, str, str]]]:
        return sorted(iceberg.rows(), key=lambda row: row["id"]), iceberg.marks()

    return iceberg.run_both_ways(messages, read, clear, run_id="r", **settings)


def test_long_runs_parsed_by_arrow(iceberg):
    messages = [iceberg.schema(**PROPERTIES), *records(1, 400), iceberg.state(400)]
    result = both_ways(iceberg, [*messages, *records(401, 700), iceberg.state(700)])
    assert result.returncode == 0, result.stderr.decode()
    rows = sorted(iceberg.rows(), key=lambda row: row["id"])
    assert [row["id"] for row in rows] == list(range(1, 701))
    assert str(iceberg.table().schema().find_field("ts").field_type) == "timestamptz"


def test_decimals_in_long_runs_keep_their_digits(iceberg):
    price = {number: {"price": f"P{number}"} for number in range(1, 301)}
    messages = [iceberg.schema(**PRICED), *records(1, 300, price), iceberg.state(300)]
    text = re.sub(rb'"P(\d+)"', rb"\1.123456789012345678", iceberg.compact(*messages))
    result = iceberg.run(text)
    assert result.returncode == 0, result.stderr.decode()
    prices = sorted((row["id"], str(row["price"])) for row in iceberg.rows())
    assert prices == [(n, f"{n}.123456789012345678") for n in range(1, 301)]


@pytest.mark.parametrize(
    ("odd", "error"),
    [
        ({350: {"amount": "abc"}}, "field 'amount'"),  # a misfit fails the batch
        ({710: {"active": 1}}, "field 'active'"),  # ... in a short run
        ({350: {"id": None}}, "lacks key property 'id'"),  # refused: failed at its line
        ({350: {"undeclared": 1}}, None),  # dropped, with a warning
    ],
)
def test_records_the_per_record_path_decides(iceberg, odd, error):
    messages = [iceberg.schema(**PROPERTIES), *records(1, 300), iceberg.state(300)]
    messages += [*records(301, 300 + MIN_RUN + 40, odd), iceberg.state(600)]
    result = both_ways(iceberg, [*messages, *records(701, 720, odd)])
    if error is None:
        assert result.returncode == 0, result.stderr.decode()
    else:
        assert result.returncode != 0
        assert error in result.stderr.decode()


def test_upsert_from_runs(iceberg):
    first = [iceberg.schema(**PROPERTIES), *records(1, 400), iceberg.state(400)]
    again = records(200, 500, {number: {"amount": 1.5} for number in range(200, 501)})
    result = both_ways(iceberg, [*first, *again, iceberg.state(500)], load_method="upsert")
    assert result.returncode == 0, result.stderr.decode()
    rows = iceberg.rows()
    assert len(rows) == 500
    assert {row["amount"] for row in rows if row["id"] >= 200} == {1.5}


def test_a_resumed_run_skips_the_first_records_of_a_long_run(iceberg, monkeypatch):
    """Run ``b`` resumes from the start of a load whose run ``a`` committed 1-300: it skips
    them inside a run of 1-700 (the rest parsed by Arrow) and commits 301-700 once."""
    monkeypatch.setenv("DATIVO_STATE_ID", "acme/users")
    monkeypatch.setenv("DATIVO_RESUME_POINT", "start")
    schema = iceberg.schema(**PROPERTIES)
    first = iceberg.compact(schema, *records(1, 300), iceberg.state(300))
    assert iceberg.run(first, run_id="a").returncode == 0
    second = iceberg.compact(schema, *records(1, 700), iceberg.state(700))
    result = iceberg.run(second, run_id="b")
    assert result.returncode == 0, result.stderr.decode()
    assert b"300 skipped as already committed" in result.stderr
    assert sorted(row["id"] for row in iceberg.rows()) == list(range(1, 701))
    assert iceberg.echoed(result) == [iceberg.state(700)["value"]]
