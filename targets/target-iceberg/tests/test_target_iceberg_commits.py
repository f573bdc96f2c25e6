"""Load methods read back with pyiceberg, and the snapshots each run commits: one per stream per
flush, marked with the run id, the batch sequence and the stream's record count."""

from __future__ import annotations

import datetime as dt
import json

from pyiceberg.transforms import BucketTransform, DayTransform

RUN = "run-1"


def _by_id(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda row: row["id"])


def test_append_commits_one_snapshot_per_stream_per_flush(iceberg):
    messages = [iceberg.schema("users"), iceberg.schema("orders")]
    for index in range(1, 7):
        messages += [
            iceberg.record("users", index, name=f"u{index}"),
            iceberg.record("orders", index, name=f"o{index}"),
        ]
        if index % 2 == 0:
            messages.append(iceberg.state(index))
    result = iceberg.run(iceberg.encode(*messages), batch_size_rows=4, run_id=RUN)
    assert result.returncode == 0, result.stderr.decode()
    # a flush every 4 records (2 of each stream); each STATE echoed after the flush covering it
    assert iceberg.echoed(result) == [iceberg.state(index)["value"] for index in (2, 4, 6)]
    for stream in ("users", "orders"):
        assert iceberg.marks(stream) == [
            ("append", RUN, "1", "2"),
            ("append", RUN, "2", "4"),
            ("append", RUN, "3", "6"),
        ]
        expected = [{"id": index, "name": f"{stream[0]}{index}"} for index in range(1, 7)]
        assert _by_id(iceberg.rows(stream)) == expected
    assert b"6 records" not in result.stderr  # the summary counts both streams
    assert b"12 records in 6 commits" in result.stderr


def test_upsert_keeps_the_last_version_of_each_key(iceberg):
    first = iceberg.encode(
        iceberg.schema(),
        *(iceberg.record(id_=index, name=f"v1-{index}") for index in (1, 2, 3)),
        iceberg.state(3),
    )
    assert iceberg.run(first, load_method="upsert", run_id="a").returncode == 0
    second = iceberg.encode(
        iceberg.schema(),
        iceberg.record(id_=1, name="v2-1"),
        iceberg.record(id_=3, name="v1-3"),  # unchanged: not rewritten
        iceberg.record(id_=4, name="v2-4"),
        iceberg.record(id_=1, name="v3-1"),  # a key twice in one batch: the last one wins
        iceberg.state(4),
    )
    result = iceberg.run(second, load_method="upsert", run_id="b")
    assert result.returncode == 0, result.stderr.decode()
    assert iceberg.echoed(result) == [iceberg.state(4)["value"]]
    assert _by_id(iceberg.rows()) == [
        {"id": 1, "name": "v3-1"},
        {"id": 2, "name": "v1-2"},
        {"id": 3, "name": "v1-3"},
        {"id": 4, "name": "v2-4"},
    ]
    # run b's one flush: key 1 rewritten (delete/overwrite), key 4 appended, in one commit
    run_b = [mark for mark in iceberg.marks() if mark[1] == "b"]
    assert {mark[1:] for mark in run_b} == {("b", "1", "4")}
    assert run_b[-1][0] == "append"


def test_upsert_without_key_properties_is_a_schema_error(iceberg):
    result = iceberg.run(
        iceberg.encode(iceberg.schema(keys=()), iceberg.record()), load_method="upsert"
    )
    assert result.returncode == 1
    assert b"input line 1: SCHEMA for stream 'users': load_method upsert needs key" in (
        result.stderr
    )


def test_overwrite_replaces_the_rows_at_the_runs_first_flush(iceberg):
    old = iceberg.encode(iceberg.schema(), *(iceberg.record(id_=index) for index in (1, 2, 3)))
    assert iceberg.run(old, run_id="old").returncode == 0
    new = iceberg.encode(
        iceberg.schema(),
        *(iceberg.record(id_=index, name="new") for index in (7, 8, 9)),
        iceberg.state(9),
    )
    result = iceberg.run(new, load_method="overwrite", batch_size_rows=2, run_id="new")
    assert result.returncode == 0, result.stderr.decode()
    assert _by_id(iceberg.rows()) == [{"id": index, "name": "new"} for index in (7, 8, 9)]
    # first flush: delete + append in one commit; the second flush appends
    assert [mark for mark in iceberg.marks() if mark[1] == "new"] == [
        ("delete", "new", "1", "2"),
        ("append", "new", "1", "2"),
        ("append", "new", "2", "3"),
    ]


def test_partition_spec_day_and_bucket(iceberg):
    props = {
        "id": {"type": "integer"},
        "ts": {"type": "string", "format": "date-time"},
    }
    result = iceberg.run(
        iceberg.encode(
            iceberg.schema(**props),
            *(
                iceberg.record(id_=index, ts=f"2024-01-0{1 + index % 3}T12:00:00+02:00")
                for index in range(1, 7)
            ),
        ),
        partition_spec={
            "users": [
                {"field": "ts", "transform": "day"},
                {"field": "id", "transform": "bucket[4]"},
            ]
        },
    )
    assert result.returncode == 0, result.stderr.decode()
    table = iceberg.table()
    assert [type(field.transform) for field in table.spec().fields] == [
        DayTransform,
        BucketTransform,
    ]
    days = {task.file.partition[0] for task in table.scan().plan_files()}
    assert len(days) == 3  # one day partition per distinct date
    rows = _by_id(iceberg.rows())
    assert rows[0] == {"id": 1, "ts": dt.datetime(2024, 1, 2, 10, tzinfo=dt.UTC)}

    # the spec applies to tables the target creates: an existing table keeps its own
    later = iceberg.run(
        iceberg.encode(iceberg.schema(**props), iceberg.record(id_=7, ts="2024-02-01T00:00:00Z"))
    )
    assert later.returncode == 0, later.stderr.decode()
    assert (
        b"table default.users is partitioned by [('ts', 'day'), ('id', 'bucket[4]')], not "
        b"nothing: partition_spec applies to the tables the target creates" in later.stderr
    )


def test_a_misfit_value_is_an_error_naming_stream_key_and_field(iceberg):
    result = iceberg.run(
        iceberg.encode(iceberg.schema(), iceberg.record(id_=1, name=5), iceberg.state(1))
    )
    assert result.returncode == 1
    assert b"stream 'users', record {\"id\":1}, field 'name': expected string, got 5" in (
        result.stderr
    )
    assert iceberg.echoed(result) == []
    assert iceberg.rows() == []


def test_a_commit_racing_another_writer_is_redone_on_the_new_table(iceberg):
    """Writer A opens the table, writer B commits to it, then A commits on its stale view:
    pyiceberg's commit retry redoes A's commit on the reloaded table; both batches land."""
    assert iceberg.run(iceberg.encode(iceberg.schema(), iceberg.record(id_=1))).returncode == 0
    writer_a = iceberg.start(run_id="a")
    try:
        writer_a.stdin.write(iceberg.encode(iceberg.schema(), iceberg.state(0)))
        writer_a.stdin.flush()
        assert json.loads(writer_a.stdout.readline()) == iceberg.state(0)["value"]  # opened
        writer_a.stdin.write(iceberg.encode(iceberg.record(id_=2), iceberg.state(2)))
        writer_b = iceberg.run(iceberg.encode(iceberg.schema(), iceberg.record(id_=3)))
        assert writer_b.returncode == 0, writer_b.stderr.decode()
        writer_a.stdin.close()
        assert json.loads(writer_a.stdout.readline()) == iceberg.state(2)["value"]
        assert writer_a.wait(timeout=60) == 0, (iceberg.folder / "stderr.txt").read_text()
    finally:
        writer_a.kill()
        writer_a.wait(timeout=30)
        writer_a.stdout.close()
    stderr = (iceberg.folder / "stderr.txt").read_text()
    assert "Commit failed due to a concurrent update, retrying (1/4)" in stderr  # the race
    assert sorted(row["id"] for row in iceberg.rows()) == [1, 2, 3]
    assert [mark[1] for mark in iceberg.marks()][-1] == "a"  # A committed last, on top of B


def test_a_batch_larger_than_a_chunk_is_one_snapshot_with_every_record(iceberg):
    """Records wait as Arrow chunks of 20,000 (target.CHUNK_ROWS): a 45,000-record batch is
    still one flush, one snapshot, every row."""
    messages = [iceberg.schema()]
    messages += [iceberg.record(id_=index, name=f"n{index}") for index in range(1, 45_001)]
    result = iceberg.run(iceberg.encode(*messages, iceberg.state(45_000)), run_id=RUN)
    assert result.returncode == 0, result.stderr.decode()
    assert iceberg.marks() == [("append", RUN, "1", "45000")]
    ids = [row["id"] for row in iceberg.rows()]
    assert sorted(ids) == list(range(1, 45_001))


def test_declared_decimals_keep_the_digits_received(iceberg):
    """``numeric(p,s)`` becomes decimal(p,s) from the JSON text, never through a float."""
    amount = {"type": ["number", "null"], "x-sql-datatype": "numeric(38,18)"}
    schema = iceberg.schema(id={"type": "integer"}, amount=amount)
    line = b'{"type":"RECORD","stream":"users","record":{"id":1,"amount":0.123456789012345678}}\n'
    result = iceberg.run(iceberg.encode(schema) + line + iceberg.encode(iceberg.state(1)))
    assert result.returncode == 0, result.stderr.decode()
    assert [str(row["amount"]) for row in iceberg.rows()] == ["0.123456789012345678"]
