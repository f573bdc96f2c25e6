"""Commits and STATE: a state is echoed only once the files holding every record before it are
visible; batches by size and age; schema changes between batches."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow as pa
import pyarrow.dataset as ds


def test_last_state_is_echoed_at_the_end(parquet):
    stream = parquet.encode(
        parquet.schema(),
        parquet.record(id_=1),
        parquet.state(1),
        parquet.record(id_=2),
        parquet.state(2),
    )
    result = parquet.run(stream)
    assert result.returncode == 0, result.stderr
    assert parquet.echoed(result) == [parquet.state(2)["value"]]
    assert [row["id"] for row in parquet.rows()] == [1, 2]


def test_a_state_is_echoed_only_once_its_records_are_in_visible_files(parquet):
    process = parquet.start(batch_size_rows=2)
    assert process.stdin is not None and process.stdout is not None
    messages = [parquet.schema(), parquet.record(id_=1), parquet.state(1), parquet.record(id_=2)]
    process.stdin.write(parquet.encode(*messages))
    process.stdin.flush()
    first = process.stdout.readline()  # blocks until the target echoes
    visible = [row["id"] for row in parquet.rows()]
    process.stdin.close()
    assert process.wait(timeout=60) == 0
    process.stdout.close()
    assert json.loads(first) == parquet.state(1)["value"]
    assert visible == [1, 2]


def test_zero_batch_age_commits_at_every_state(parquet):
    stream = parquet.encode(
        parquet.schema(),
        parquet.state(0),
        parquet.record(id_=1),
        parquet.state(1),
        parquet.record(id_=2),
        parquet.state(2),
    )
    result = parquet.run(stream, max_batch_age_seconds=0)
    assert parquet.echoed(result) == [parquet.state(p)["value"] for p in (0, 1, 2)]
    assert len(parquet.files()) == 2


def test_no_state_means_nothing_on_stdout(parquet):
    result = parquet.run(parquet.encode(parquet.schema(), parquet.record(id_=1)))
    assert result.returncode == 0, result.stderr
    assert result.stdout == b""
    assert parquet.rows() == [{"id": 1, "name": None}]


def test_schema_change_adds_a_column_and_widens_integer_to_number(parquet):
    first = parquet.schema(id={"type": "integer"}, amount={"type": "integer"})
    second = parquet.schema(
        id={"type": "integer"}, amount={"type": "number"}, note={"type": "string"}
    )
    stream = parquet.encode(
        first,
        parquet.record(id_=1, amount=10),
        parquet.record(id_=2, amount=20),
        parquet.state(2),
        first,  # repeated unchanged: no commit
        parquet.record(id_=3, amount=30),
        second,  # commits the record before it under the old schema
        parquet.record(id_=4, amount=2.5, note="n"),
        parquet.state(4),
    )
    result = parquet.run(stream, batch_size_rows=2)
    assert result.returncode == 0, result.stderr
    schemas = [table.schema for table in parquet.tables()]
    assert [schema.field("amount").type for schema in schemas] == [
        pa.int64(),
        pa.int64(),
        pa.float64(),
    ]
    assert schemas[-1].names == ["id", "amount", "note"]
    unified = pa.unify_schemas(schemas, promote_options="permissive")
    rows = ds.dataset(parquet.files(), schema=unified).to_table().to_pylist()
    assert rows == [
        {"id": 1, "amount": 10.0, "note": None},
        {"id": 2, "amount": 20.0, "note": None},
        {"id": 3, "amount": 30.0, "note": None},
        {"id": 4, "amount": 2.5, "note": "n"},
    ]
    assert parquet.echoed(result)[-1] == parquet.state(4)["value"]


def test_a_field_dropped_from_the_schema_is_kept_as_nullable(parquet):
    stream = parquet.encode(
        parquet.schema(id={"type": "integer"}, name={"type": "string"}),
        parquet.record(id_=1, name="a"),
        parquet.schema(id={"type": "integer"}),
        parquet.record(id_=2),
    )
    result = parquet.run(stream)
    assert result.returncode == 0, result.stderr
    assert parquet.rows() == [{"id": 1, "name": "a"}, {"id": 2, "name": None}]


def test_a_type_change_that_cannot_widen_fails_after_committing_what_came_before(parquet):
    stream = parquet.encode(
        parquet.schema(id={"type": "integer"}, flag={"type": "boolean"}),
        parquet.record(id_=1, flag=True),
        parquet.state(1),
        parquet.schema(id={"type": "integer"}, flag={"type": "integer"}),
        parquet.record(id_=2, flag=3),
    )
    result = parquet.run(stream)
    assert result.returncode == 1
    message = result.stderr.decode()
    assert "input line 4" in message
    assert "field 'flag' changed from boolean to integer" in message
    assert parquet.rows() == [{"id": 1, "flag": True}]
    assert parquet.echoed(result) == [parquet.state(1)["value"]]


def test_number_to_string_widening_stores_text(parquet):
    stream = parquet.encode(
        parquet.schema(id={"type": "integer"}, code={"type": "number"}),
        parquet.record(id_=1, code=1.5),
        parquet.schema(id={"type": "integer"}, code={"type": "string"}),
        parquet.record(id_=2, code="A7"),
        parquet.record(id_=3, code=4),
    )
    result = parquet.run(stream)
    assert result.returncode == 0, result.stderr
    assert [table.schema.field("code").type for table in parquet.tables()] == [
        pa.float64(),
        pa.string(),
    ]
    assert [row["code"] for row in parquet.rows()] == [1.5, "A7", "4"]


def test_memory_stays_bounded_by_the_batch(parquet, tmp_path):
    """200,000 records through batches of 5,000: the peak RSS stays far below what holding
    them all takes (210 MB measured with one batch of 200,000)."""
    source = tmp_path / "big.singer"
    line = b'{"type":"RECORD","stream":"users","record":{"id":%d,"name":"%s"}}\n'
    with source.open("wb") as file:
        file.write(parquet.encode(parquet.schema()))
        file.writelines(line % (index, b"x" * 100) for index in range(200_000))
    command = [parquet.executable, "--config", str(parquet.config(batch_size_rows=5_000))]
    command += ["--input", str(source)]
    peak_kib = _peak_rss_kib(command)
    assert peak_kib < 150_000, peak_kib
    assert sum(table.num_rows for table in parquet.tables()) == 200_000


def _peak_rss_kib(command: list[str]) -> int:
    """Run ``command`` under a Python whose only child it is; return its peak RSS."""
    probe = (
        "import resource, subprocess, sys; "
        "subprocess.run(sys.argv[1:], check=True, capture_output=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, *command], capture_output=True, timeout=60, check=True
    )
    return int(result.stdout)
