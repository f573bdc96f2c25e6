"""Schema evolution: new fields join the table by name (earlier rows read null), a later run
may send fewer fields, and nested structs grow."""

from __future__ import annotations


def test_a_schema_change_mid_stream_adds_columns(iceberg):
    nested = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "zip": {"type": ["string", "null"]}},
    }
    v1 = {"id": {"type": "integer"}, "name": {"type": "string"}}
    v2 = {**v1, "email": {"type": ["string", "null"]}, "address": nested}
    stream = iceberg.encode(
        iceberg.schema(**v1),
        iceberg.record(id_=1, name="before"),
        iceberg.schema(**v2),
        iceberg.record(id_=2, name="after", email="a@x", address={"city": "Oslo", "zip": None}),
        iceberg.state(2),
    )
    result = iceberg.run(stream, nested_as_json=False, run_id="one")
    assert result.returncode == 0, result.stderr.decode()
    assert iceberg.echoed(result) == [iceberg.state(2)["value"]]
    assert [field.name for field in iceberg.table().schema().fields] == [
        "id",
        "name",
        "email",
        "address",
    ]
    rows = sorted(iceberg.rows(), key=lambda row: row["id"])
    assert rows == [
        {"id": 1, "name": "before", "email": None, "address": None},
        {"id": 2, "name": "after", "email": "a@x", "address": {"city": "Oslo", "zip": None}},
    ]
    # one flush for the records under v1 (committed before the change), one for v2
    assert [mark[2:] for mark in iceberg.marks()] == [("1", "1"), ("2", "2")]

    # a later run: the schema grows inside the struct and drops a field
    v3 = {
        "id": {"type": "integer"},
        "address": {
            "type": "object",
            "properties": {**nested["properties"], "country": {"type": "string"}},
        },
    }
    later = iceberg.encode(
        iceberg.schema(**v3), iceberg.record(id_=3, address={"city": "Rome", "country": "IT"})
    )
    result = iceberg.run(later, nested_as_json=False, run_id="two")
    assert result.returncode == 0, result.stderr.decode()
    row = sorted(iceberg.rows(), key=lambda row: row["id"])[-1]
    assert row == {
        "id": 3,
        "name": None,
        "email": None,
        "address": {"city": "Rome", "zip": None, "country": "IT"},
    }
