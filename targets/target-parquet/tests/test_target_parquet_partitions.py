"""Hive partitioning by field values and by dates derived from date-times, read back with
pyarrow's dataset discovery."""

from __future__ import annotations

import datetime as dt

import pyarrow.dataset as ds

PROPERTIES = {
    "id": {"type": "integer"},
    "ts": {"type": ["string", "null"], "format": "date-time"},
    "country": {"type": ["string", "null"]},
}


def events(parquet, *rows: tuple[int, str | None, str | None]) -> bytes:
    return parquet.encode(
        parquet.schema("events", **PROPERTIES),
        *(parquet.record("events", id_, ts=ts, country=country) for id_, ts, country in rows),
    )


def folders(parquet, stream: str = "events") -> list[str]:
    return sorted(
        str(path.parent.relative_to(parquet.out / stream)) for path in parquet.files(stream)
    )


def test_a_date_derived_from_a_timestamp_partitions_by_day(parquet):
    stream = events(
        parquet,
        (1, "2024-01-01T23:59:59Z", "FR"),
        (2, "2024-01-02T00:00:00Z", "FR"),
        (3, "2024-01-01T00:00:00Z", "US"),
        (4, "2024-01-02T01:00:00+02:00", "US"),  # 2024-01-01 in UTC
        (5, None, "US"),
    )
    result = parquet.run(stream, partition_by=[{"field": "ts", "granularity": "day"}])
    assert result.returncode == 0, result.stderr
    assert folders(parquet) == [
        "ts_date=2024-01-01",
        "ts_date=2024-01-02",
        "ts_date=__HIVE_DEFAULT_PARTITION__",
    ]
    table = ds.dataset(parquet.out / "events", partitioning="hive").to_table()
    by_id = {row["id"]: row for row in table.to_pylist()}
    assert {id_: row["ts_date"] for id_, row in by_id.items()} == {
        1: "2024-01-01",
        2: "2024-01-02",
        3: "2024-01-01",
        4: "2024-01-01",
        5: None,
    }
    assert by_id[1]["ts"] == dt.datetime(2024, 1, 1, 23, 59, 59, tzinfo=dt.UTC)
    assert by_id[1]["country"] == "FR"  # a derived partition keeps its source field


def test_rows_keep_their_order_within_a_partition(parquet):
    rows = [(index, f"2024-01-0{1 + index % 3}T00:00:00Z", None) for index in range(30)]
    result = parquet.run(
        events(parquet, *rows), partition_by=[{"field": "ts", "granularity": "day"}]
    )
    assert result.returncode == 0, result.stderr
    for table in parquet.tables("events"):
        ids = table.column("id").to_pylist()
        assert ids == sorted(ids) and len(ids) == 10


def test_value_partitions_move_the_field_to_escaped_folder_names(parquet):
    stream = events(
        parquet,
        (1, "2024-01-01T00:00:00Z", "FR"),
        (2, "2024-03-05T00:00:00Z", "a/b c"),
        (3, "2024-03-06T00:00:00Z", None),
        (4, "2024-03-07T00:00:00Z", ""),
    )
    result = parquet.run(stream, partition_by=["country", {"field": "ts", "granularity": "month"}])
    assert result.returncode == 0, result.stderr
    assert folders(parquet) == [
        "country=FR/ts_month=2024-01",
        "country=__HIVE_DEFAULT_PARTITION__/ts_month=2024-03",
        "country=a%2Fb%20c/ts_month=2024-03",
    ]
    for table in parquet.tables("events"):
        assert "country" not in table.column_names
    table = ds.dataset(parquet.out / "events", partitioning="hive").to_table()
    countries = {row["id"]: row["country"] for row in table.to_pylist()}
    assert countries == {1: "FR", 2: "a/b c", 3: None, 4: None}


def test_partitions_can_differ_per_stream(parquet):
    stream = parquet.encode(
        parquet.schema("events", **PROPERTIES),
        parquet.schema("users"),
        parquet.record("events", 1, ts="2024-05-06T07:08:09Z", country="FR"),
        parquet.record("users", 1, name="Ada"),
    )
    result = parquet.run(
        stream, partition_by={"events": [{"field": "ts", "granularity": "hour"}], "*": []}
    )
    assert result.returncode == 0, result.stderr
    assert folders(parquet) == ["ts_hour=2024-05-06T07"]
    assert folders(parquet, "users") == ["."]


def test_a_stream_without_the_partition_field_is_written_unpartitioned_with_a_warning(parquet):
    stream = parquet.encode(parquet.schema("users"), parquet.record("users", 1, name="Ada"))
    result = parquet.run(stream, partition_by=["country"])
    assert result.returncode == 0, result.stderr
    assert b"stream 'users' has no field 'country'" in result.stderr
    assert parquet.rows("users") == [{"id": 1, "name": "Ada"}]


def test_a_named_stream_without_the_partition_field_is_an_error(parquet):
    stream = parquet.encode(parquet.schema("users"), parquet.record("users", 1))
    result = parquet.run(stream, partition_by={"users": ["country"]})
    assert result.returncode == 1
    assert b"input line 1" in result.stderr
    assert b"no field 'country'" in result.stderr


def test_a_granularity_needs_a_date_time_field(parquet):
    stream = parquet.encode(parquet.schema("users"), parquet.record("users", 1))
    result = parquet.run(stream, partition_by={"users": [{"field": "name", "granularity": "day"}]})
    assert result.returncode == 1
    assert b"needs a date-time or date field" in result.stderr
