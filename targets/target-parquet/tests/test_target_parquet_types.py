"""Singer schemas become typed Parquet columns; values that do not fit are stored as text,
or rejected with validate_records."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa

UTC = dt.UTC

PROPERTIES = {
    "id": {"type": "integer"},
    "amount": {"type": ["null", "number"]},
    "active": {"type": "boolean"},
    "name": {"type": ["string", "null"]},
    "ts": {"type": ["null", "string"], "format": "date-time"},
    "day": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
    "tags": {"type": "array", "items": {"type": "string"}},
    "scores": {"type": ["array", "null"], "items": {"type": ["integer", "null"]}},
    "meta": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}},
    "free": {},
    "either": {"type": ["integer", "number"]},
}


def test_each_json_schema_type_becomes_its_parquet_type(parquet):
    record = {
        "amount": 12.5,
        "active": True,
        "name": "Ada",
        "ts": "2024-03-01T10:20:30.123456Z",
        "day": "2024-03-01",
        "tags": ["a", "é"],
        "scores": [1, None, 3],
        "meta": {"a": 1, "b": "x"},
        "free": [1, {"k": "v"}],
        "either": 3,
    }
    stream = parquet.encode(
        parquet.schema(**PROPERTIES), parquet.record(id_=1, **record), parquet.record(id_=2)
    )
    result = parquet.run(stream)
    assert result.returncode == 0, result.stderr
    (table,) = parquet.tables()
    assert table.schema == pa.schema(
        [
            ("id", pa.int64()),
            ("amount", pa.float64()),
            ("active", pa.bool_()),
            ("name", pa.string()),
            ("ts", pa.timestamp("us", tz="UTC")),
            ("day", pa.date32()),
            ("tags", pa.list_(pa.string())),
            ("scores", pa.list_(pa.int64())),
            ("meta", pa.string()),
            ("free", pa.string()),
            ("either", pa.float64()),
        ]
    )
    first, second = table.to_pylist()
    assert first["ts"] == dt.datetime(2024, 3, 1, 10, 20, 30, 123456, tzinfo=UTC)
    assert first["day"] == dt.date(2024, 3, 1)
    assert first["tags"] == ["a", "é"]
    assert first["scores"] == [1, None, 3]
    assert json.loads(first["meta"]) == {"a": 1, "b": "x"}
    assert json.loads(first["free"]) == [1, {"k": "v"}]
    assert (first["id"], first["amount"], first["active"], first["either"]) == (1, 12.5, True, 3.0)
    assert second == {name: (2 if name == "id" else None) for name in PROPERTIES}
    assert b"warning" not in result.stderr


def test_objects_become_structs_without_nested_as_json(parquet):
    props = {
        "id": {"type": "integer"},
        "meta": {
            "type": ["object", "null"],
            "properties": {
                "a": {"type": "integer"},
                "inner": {"type": "object", "properties": {"x": {"type": "number"}}},
            },
        },
        "items": {
            "type": "array",
            "items": {"type": "object", "properties": {"sku": {"type": "string"}}},
        },
    }
    meta = {"a": 1, "inner": {"x": 2.5}}
    stream = parquet.encode(
        parquet.schema(**props), parquet.record(id_=1, meta=meta, items=[{"sku": "A"}])
    )
    result = parquet.run(stream, nested_as_json=False)
    assert result.returncode == 0, result.stderr
    (table,) = parquet.tables()
    assert table.schema.field("meta").type == pa.struct(
        [("a", pa.int64()), ("inner", pa.struct([("x", pa.float64())]))]
    )
    assert table.schema.field("items").type == pa.list_(pa.struct([("sku", pa.string())]))
    assert table.to_pylist() == [{"id": 1, "meta": meta, "items": [{"sku": "A"}]}]


def test_date_times_in_any_iso_form_are_coerced_to_utc(parquet):
    values = [
        "2024-01-01T12:00:00Z",
        "2024-01-01T14:00:00+02:00",
        "2024-01-01T12:00:00",  # naive: taken as UTC
        "2024-01-01 12:00:00.000000123Z",  # more digits than microseconds: truncated
    ]
    stream = parquet.encode(
        parquet.schema(id={"type": "integer"}, ts={"type": "string", "format": "date-time"}),
        *(parquet.record(id_=index, ts=value) for index, value in enumerate(values)),
    )
    result = parquet.run(stream)
    assert result.returncode == 0, result.stderr
    noon = dt.datetime(2024, 1, 1, 12, tzinfo=UTC)
    assert [row["ts"] for row in parquet.rows()] == [noon] * 4


def test_integral_floats_fit_an_integer_field(parquet):
    stream = parquet.encode(parquet.schema(), parquet.record(id_=2.0), parquet.record(id_=3))
    result = parquet.run(stream)
    assert result.returncode == 0, result.stderr
    (table,) = parquet.tables()
    assert table.schema.field("id").type == pa.int64()
    assert table.column("id").to_pylist() == [2, 3]


def test_misfits_store_the_field_as_text_in_that_batch_only_with_one_warning(parquet):
    props = {
        "id": {"type": "integer"},
        "ts": {"type": "string", "format": "date-time"},
        "n": {"type": "integer"},
        "ok": {"type": "boolean"},
    }
    stream = parquet.encode(
        parquet.schema(**props),
        parquet.record(id_=1, ts="2024-01-01T00:00:00Z", n=1, ok=True),
        parquet.record(id_=2, ts="not a date", n=1.5, ok="yes"),
        parquet.record(id_=3, ts=20240101, n=2, ok={"x": 1}),
        parquet.record(id_=4, ts="2024-01-02T00:00:00Z", n=3, ok=False),
        parquet.record(id_=5, ts="2024-01-03T00:00:00Z", n=4, ok=None),
    )
    result = parquet.run(stream, batch_size_rows=3)
    assert result.returncode == 0, result.stderr
    first, second = parquet.tables()
    assert first.schema == pa.schema(
        [("id", pa.int64()), ("ts", pa.string()), ("n", pa.float64()), ("ok", pa.string())]
    )
    assert first.to_pylist() == [
        {"id": 1, "ts": "2024-01-01T00:00:00Z", "n": 1.0, "ok": "true"},
        {"id": 2, "ts": "not a date", "n": 1.5, "ok": "yes"},
        {"id": 3, "ts": "20240101", "n": 2.0, "ok": '{"x":1}'},
    ]
    assert second.schema == pa.schema(
        [
            ("id", pa.int64()),
            ("ts", pa.timestamp("us", tz="UTC")),
            ("n", pa.int64()),
            ("ok", pa.bool_()),
        ]
    )
    assert second.column("n").to_pylist() == [3, 4]
    warnings = result.stderr.decode().splitlines()
    for field in ("ts", "n", "ok"):
        (line,) = [line for line in warnings if f"field '{field}'" in line]
        assert "stream 'users'" in line and 'record {"id":2}' in line


def test_validate_records_fails_naming_stream_key_and_field(parquet):
    props = {"id": {"type": "integer"}, "age": {"type": ["integer", "null"]}}
    stream = parquet.encode(
        parquet.schema(**props),
        parquet.record(id_=1, age=30),
        parquet.state(1),
        parquet.record(id_=2, age=31),
        parquet.record(id_=7, age="forty"),
        parquet.state(7),
    )
    result = parquet.run(stream, validate_records=True, batch_size_rows=1000)
    parquet.assert_failed(
        result,
        1,
        "stream 'users'",
        'record {"id":7}',
        "field 'age'",
        'expected integer, got "forty"',
    )
    assert result.stdout == b""  # the failed batch held both states' records
    assert parquet.files() == []
    assert parquet.tmp_files() == []


def test_validate_records_rejects_null_where_the_schema_has_no_null(parquet):
    stream = parquet.encode(
        parquet.schema(id={"type": "integer"}, name={"type": "string"}),
        parquet.record(id_=1),  # a missing field is fine
        parquet.record(id_=2, name=None),
    )
    assert parquet.run(stream).returncode == 0
    result = parquet.run(stream, validate_records=True)
    assert result.returncode == 1
    assert b"stream 'users', record {\"id\":2}, field 'name': null" in result.stderr


def test_undeclared_fields_are_dropped_with_a_warning_or_rejected_when_closed(parquet):
    schema = parquet.schema()
    stream = parquet.encode(schema, parquet.record(id_=1, name="a", extra=5))
    result = parquet.run(stream)
    assert result.returncode == 0, result.stderr
    assert parquet.rows() == [{"id": 1, "name": "a"}]
    assert b"field 'extra'" in result.stderr and b"not in the schema" in result.stderr
    schema["schema"]["additionalProperties"] = False
    closed = parquet.encode(schema, parquet.record(id_=1, name="a", extra=5))
    assert parquet.run(closed).returncode == 0
    result = parquet.run(closed, validate_records=True)
    assert result.returncode == 1
    assert b"field 'extra': not declared in the schema" in result.stderr
