"""SCHEMA changes mid-stream: new columns, safe widening, clear errors where it is unsafe."""

from __future__ import annotations

ID = {"id": {"type": "integer"}}


def test_a_new_property_mid_stream_adds_a_column(pg):
    pg.load(
        pg.singer(
            pg.schema_message("users", ID),
            pg.record("users", id=1),
            pg.schema_message("users", {**ID, "email": {"type": ["string", "null"]}}),
            pg.record("users", id=2, email="b@example.com"),
        ),
        add_record_metadata=False,
    )
    assert pg.column_types("users") == {"id": "bigint", "email": "text"}
    assert pg.query("SELECT id, email FROM {schema}.users ORDER BY id") == [
        (1, None),
        (2, "b@example.com"),
    ]


def test_types_widen_integer_to_number_to_string_keeping_values(pg):
    def schema(kind: str) -> dict:
        return pg.schema_message("m", {**ID, "v": {"type": kind}})

    pg.load(
        pg.singer(
            schema("integer"),
            pg.record("m", id=1, v=5),
            schema("number"),
            pg.record("m", id=2, v=2.5),
        )
    )
    assert pg.column_types("m")["v"] == "double precision"
    pg.load(pg.singer(schema("string"), pg.record("m", id=3, v="three")))  # a later run
    assert pg.column_types("m")["v"] == "text"
    assert pg.query("SELECT id, v FROM {schema}.m ORDER BY id") == [
        (1, "5"),
        (2, "2.5"),
        (3, "three"),
    ]
    # A narrower schema later leaves the wide column alone.
    pg.load(pg.singer(schema("integer"), pg.record("m", id=4, v=4)))
    assert pg.column_types("m")["v"] == "text"


def test_widening_that_would_round_values_fails_clearly_and_keeps_the_table(pg):
    big = 2**53 + 1
    pg.load(
        pg.singer(
            pg.schema_message("m", {**ID, "v": {"type": "integer"}}), pg.record("m", id=1, v=big)
        )
    )
    result = pg.run(
        pg.singer(
            pg.schema_message("m", {**ID, "v": {"type": "number"}}), pg.record("m", id=2, v=0.5)
        )
    )
    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert "'v'" in stderr and "cannot widen from bigint to double precision" in stderr
    assert str(big) in stderr
    assert pg.column_types("m")["v"] == "bigint"
    assert pg.query("SELECT id, v FROM {schema}.m") == [(1, big)]


def test_a_column_that_cannot_change_type_is_reported_by_name(pg):
    pg.load(
        pg.singer(
            pg.schema_message("m", {**ID, "v": {"type": "integer"}}), pg.record("m", id=1, v=1)
        )
    )
    pg.query("CREATE VIEW {schema}.m_view AS SELECT v FROM {schema}.m")
    result = pg.run(
        pg.singer(
            pg.schema_message("m", {**ID, "v": {"type": "string"}}), pg.record("m", id=2, v="x")
        )
    )
    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert "stream 'm'" in stderr and "cannot change the table" in stderr and "view" in stderr
    assert pg.query("SELECT id FROM {schema}.m") == [(1,)]


def test_changed_key_properties_are_refused(pg):
    properties = {**ID, "code": {"type": "string"}}
    pg.load(pg.singer(pg.schema_message("m", properties), pg.record("m", id=1, code="a")))
    result = pg.run(
        pg.singer(pg.schema_message("m", properties, keys=["code"]), pg.record("m", id=2, code="b"))
    )
    assert result.returncode == 1
    assert b"key properties ['code'] differ from the table's primary key ['id']" in result.stderr
