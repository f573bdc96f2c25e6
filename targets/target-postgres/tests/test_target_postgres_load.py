"""Loading: column types, upsert and append, table naming, metadata, STATE after commit."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import subprocess
import threading
import time
from decimal import Decimal

import psycopg
import pytest

pytestmark = pytest.mark.usefixtures("both_encodings")  # spaced and compact lines

PROPERTIES = {
    "id": {"type": "integer"},
    "amount": {"type": ["number", "null"]},
    "price": {"type": "number", "multipleOf": 0.01},
    "ok": {"type": "boolean"},
    "name": {"type": ["string", "null"]},
    "at": {"type": "string", "format": "date-time"},
    "day": {"type": "string", "format": "date"},
    "clock": {"type": "string", "format": "time"},
    "meta": {"type": "object"},
    "tags": {"type": "array", "items": {"type": "string"}},
    "anything": {},
    "mixed": {"type": ["integer", "string"]},
    "either": {"type": ["integer", "number", "null"]},
    "maybe_at": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
    "exact": {"type": "string", "format": "singer.decimal"},
}
EXPECTED_TYPES = {
    "id": "bigint",
    "amount": "double precision",
    "price": "numeric",
    "ok": "boolean",
    "name": "text",
    "at": "timestamp with time zone",
    "day": "date",
    "clock": "time without time zone",
    "meta": "jsonb",
    "tags": "jsonb",
    "anything": "jsonb",
    "mixed": "text",
    "either": "double precision",
    "maybe_at": "timestamp with time zone",
    "exact": "numeric",
}


def test_json_schema_types_map_to_columns_and_values_read_back(pg):
    values = {
        "id": 9007199254740993,  # beyond 2**53: must stay exact
        "amount": 0.1,
        "price": 12.34,
        "ok": True,
        "name": 'tab\there "quoted" back\\slash é\nnewline',
        "at": "2024-05-01T12:00:00+02:00",
        "day": "2024-05-01",
        "clock": "13:45:10",
        "meta": {"nested": {"list": [1, "two", None]}, "flag": False},
        "tags": ["a", "b"],
        "anything": "just a string",
        "mixed": 42,
        "either": 3,
        "maybe_at": None,
        "exact": "123456789.123456789",
    }
    pg.load(
        pg.singer(pg.schema_message("things", PROPERTIES), pg.record("things", **values)),
        add_record_metadata=False,
    )
    assert pg.column_types("things") == EXPECTED_TYPES
    columns = ", ".join(f'"{name}"' for name in PROPERTIES)
    (row,) = pg.query(f"SELECT {columns} FROM {{schema}}.things")
    loaded = dict(zip(PROPERTIES, row, strict=True))
    assert loaded == {
        **values,
        "price": Decimal("12.34"),
        "at": dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC),
        "day": dt.date(2024, 5, 1),
        "clock": dt.time(13, 45, 10),
        "mixed": "42",
        "either": 3.0,
        "exact": Decimal("123456789.123456789"),
    }
    (primary_key,) = pg.query(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
        (f'"{pg.schema}".things',),
    )
    assert primary_key == ("id",)


def test_loading_the_same_stream_three_times_upserts(pg):
    stream = pg.singer(
        pg.schema_message("users", {"id": {"type": "integer"}, "name": {"type": "string"}}),
        *(pg.record("users", id=i, name=f"user {i}") for i in range(1, 51)),
        pg.state(50),
    )
    for _ in range(3):
        result = pg.load(stream)
        assert pg.echoed(result) == [pg.state(50)["value"]]
    assert pg.query("SELECT count(*), count(DISTINCT id) FROM {schema}.users") == [(50, 50)]


def test_within_and_across_batches_the_last_record_of_a_key_wins(pg):
    messages = [pg.schema_message("users", {"id": {"type": "integer"}, "name": {"type": "string"}})]
    messages += [pg.record("users", id=1, name="first"), pg.record("users", id=2, name="two")]
    messages += [pg.record("users", id=1, name="second"), pg.record("users", id=1, name="third")]
    pg.load(pg.singer(*messages), batch_size_rows=3)  # batches: [1, 2, 1] then [1]
    pg.load(pg.singer(*messages))  # one batch, with duplicates, into a non-empty table
    assert pg.query("SELECT id, name FROM {schema}.users ORDER BY id") == [
        (1, "third"),
        (2, "two"),
    ]


def test_keys_equal_in_sql_but_not_in_json_keep_the_last_record(pg):
    schema = pg.schema_message(
        "codes", {"id": {"type": ["integer", "string"]}, "name": {"type": "string"}}
    )
    pg.load(pg.singer(schema, pg.record("codes", id="other", name="x")))  # staged from now on
    new_twice = [pg.record("codes", id=1, name="a"), pg.record("codes", id="1", name="b")]
    pg.load(pg.singer(schema, *new_twice))  # a new key inserted twice
    assert pg.query("SELECT id, name FROM {schema}.codes WHERE id = '1'") == [("1", "b")]
    known_twice = [pg.record("codes", id="1", name="c"), pg.record("codes", id=1, name="d")]
    pg.load(pg.singer(schema, *known_twice))  # a row updated twice
    assert pg.query("SELECT id, name FROM {schema}.codes ORDER BY id") == [
        ("1", "d"),
        ("other", "x"),
    ]


def test_rows_copied_straight_and_merged_share_their_batch_metadata(pg):
    schema = pg.schema_message("users", {"id": {"type": "integer"}})
    first = pg.record("users", id=1)
    again = pg.record("users", id=1)  # a repeated key: merged from the staging table
    again.update(time_extracted="2024-01-02T03:04:05Z", version=7)
    batch = (
        "count(DISTINCT (_sdc_received_at, _sdc_batched_at, _sdc_sequence, "
        "_sdc_sync_started_at)), bool_and(_sdc_received_at = _sdc_batched_at)"
    )
    pg.load(pg.singer(schema, first, pg.record("users", id=2), again))
    assert pg.query(f"SELECT {batch} FROM {{schema}}.users") == [(1, True)]
    assert pg.query(
        "SELECT _sdc_extracted_at, _sdc_table_version FROM {schema}.users WHERE id = 1"
    ) == [(dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC), 7)]
    (before,) = pg.query("SELECT _sdc_batched_at, _sdc_sync_started_at FROM {schema}.users")[:1]
    pg.load(pg.singer(schema, first, pg.record("users", id=2)))  # into the populated table
    assert pg.query(f"SELECT {batch} FROM {{schema}}.users") == [(1, True)]
    (after,) = pg.query("SELECT _sdc_batched_at, _sdc_sync_started_at FROM {schema}.users")[:1]
    assert after[0] > before[0] and after[1] > before[1]


def test_load_method_overwrite_replaces_each_table_once_per_run(pg):
    schema = pg.schema_message("users", {"id": {"type": "integer"}})
    pg.load(pg.singer(schema, *(pg.record("users", id=i) for i in (1, 2, 3))))
    pg.load(
        pg.singer(schema, pg.record("users", id=4), pg.record("users", id=5)),
        load_method="overwrite",
        batch_size_rows=1,  # the second batch must not replace the first one's rows
    )
    assert pg.query("SELECT id FROM {schema}.users ORDER BY id") == [(4,), (5,)]


def test_without_key_properties_records_are_appended(pg):
    stream = pg.singer(
        pg.schema_message("events", {"id": {"type": "integer"}}, keys=[]),
        pg.record("events", id=1),
        pg.record("events", id=1),
    )
    pg.load(stream)
    pg.load(stream)
    assert pg.query("SELECT count(*) FROM {schema}.events WHERE id = 1") == [(4,)]


def test_stream_names_map_to_tables_like_meltanolabs(pg):
    properties = {"id": {"type": "integer"}}
    pg.load(pg.singer(pg.schema_message("shop-orders", properties), pg.record("shop-orders", id=1)))
    # With default_target_schema empty, the schema part of the stream name is used.
    stream = f"{pg.schema}-Mixed_Case"
    pg.load(
        pg.singer(pg.schema_message(stream, properties), pg.record(stream, id=2)),
        default_target_schema="",
    )
    assert pg.query("SELECT id FROM {schema}.orders") == [(1,)]
    assert pg.query('SELECT id FROM {schema}."Mixed_Case"') == [(2,)]


def test_metadata_columns_come_from_the_messages(pg):
    message = pg.record("users", id=1)
    message.update(time_extracted="2024-01-02T03:04:05Z", version=7)
    pg.load(pg.singer(pg.schema_message("users", {"id": {"type": "integer"}}), message))
    (row,) = pg.query(
        "SELECT _sdc_extracted_at, _sdc_table_version, _sdc_deleted_at, "
        "_sdc_received_at = _sdc_batched_at AND _sdc_received_at > now() - interval '1 minute', "
        "_sdc_sequence > 0, _sdc_sync_started_at > 0 "
        "FROM {schema}.users"
    )
    assert row == (
        dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        7,
        None,
        True,
        True,
        True,
    )


def test_a_schema_without_records_creates_its_table_and_echoes_nothing(pg):
    result = pg.load(pg.singer(pg.schema_message("empty", {"id": {"type": "integer"}})))
    assert pg.query("SELECT count(*) FROM {schema}.empty") == [(0,)]
    assert result.stdout == b""


def test_interleaved_streams_land_in_their_tables(pg):
    properties = {"id": {"type": "integer"}}
    messages = [pg.schema_message("a", properties), pg.schema_message("b", properties)]
    for i in range(1, 7):
        messages.append(pg.record("a" if i % 2 else "b", id=i))
    pg.load(pg.singer(*messages), batch_size_rows=4)
    assert pg.query("SELECT array_agg(id ORDER BY id) FROM {schema}.a") == [([1, 3, 5],)]
    assert pg.query("SELECT array_agg(id ORDER BY id) FROM {schema}.b") == [([2, 4, 6],)]


def test_each_state_is_echoed_only_after_its_records_are_committed(pg):
    config = pg.config(batch_size_rows=2, max_batch_age_seconds=3600)
    schema = pg.schema_message("users", {"id": {"type": "integer"}})
    with subprocess.Popen(
        [pg.executable, "--config", str(config)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(pg.singer(schema, pg.state(0), pg.record("users", id=1)))
        process.stdin.write(pg.singer(pg.state(1), pg.record("users", id=2), pg.state(2)))
        process.stdin.flush()
        first = [json.loads(process.stdout.readline()) for _ in range(2)]  # blocks on echoes
        visible = pg.query("SELECT id FROM {schema}.users ORDER BY id")
        process.stdin.close()
        rest = [json.loads(line) for line in process.stdout]
        assert process.wait(timeout=60) == 0
    # State 0 (nothing pending) is echoed at once. The batch of 2 records was committed when
    # the 2nd arrived: the state before it (1) is echoed then; state 2 came after the commit,
    # with nothing pending, so it is echoed at once too.
    assert first == [pg.state(0)["value"], pg.state(1)["value"]]
    assert visible == [(1,), (2,)]
    assert rest == [pg.state(2)["value"]]


def test_batch_messages_load_their_jsonl_files(pg):
    plain = pg.folder / "part-1.jsonl"
    plain.write_text('{"id": 1, "name": "a"}\n\n{"id": 2, "name": "b"}\n')
    packed = pg.folder / "part-2.jsonl.gz"
    with gzip.open(packed, "wt") as file:
        file.write('{"id": 3, "name": "c"}\n{"id": 1, "name": "a again"}\n')
    batches = [
        {
            "type": "BATCH",
            "stream": "users",
            "encoding": {"format": "jsonl", "compression": compression},
            "manifest": [path.as_uri()],
        }
        for compression, path in (("none", plain), ("gzip", packed))
    ]
    properties = {"id": {"type": "integer"}, "name": {"type": "string"}}
    pg.load(pg.singer(pg.schema_message("users", properties), *batches))
    assert pg.query("SELECT id, name FROM {schema}.users ORDER BY id") == [
        (1, "a again"),
        (2, "b"),
        (3, "c"),
    ]


def test_a_key_another_session_inserts_during_the_merge_is_updated(pg):
    """The other session's insert commits while our MERGE waits on its row lock: the MERGE
    fails with a duplicate key, and its retry (a fresh snapshot) updates that row."""
    schema = pg.schema_message("race", {"id": {"type": "integer"}, "v": {"type": "string"}})
    pg.load(pg.singer(schema, pg.record("race", id=1, v="a")))  # staged and merged from now on
    table = psycopg.sql.Identifier(pg.schema, "race")
    with psycopg.connect(pg.dsn) as other:
        other.execute(psycopg.sql.SQL("INSERT INTO {} (id, v) VALUES (5, 'other')").format(table))

        def commit_once_the_target_waits() -> None:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not pg.query(
                "SELECT 1 FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                (other.info.backend_pid,),
            ):
                time.sleep(0.02)
            other.commit()

        committer = threading.Thread(target=commit_once_the_target_waits)
        committer.start()
        result = pg.load(
            pg.singer(
                schema,
                pg.record("race", id=1, v="b"),
                pg.record("race", id=5, v="ours"),
                pg.state(1),
            )
        )
        committer.join()
    assert pg.query("SELECT id, v FROM {schema}.race ORDER BY id") == [(1, "b"), (5, "ours")]
    assert json.loads(result.stdout.splitlines()[-1]) == pg.state(1)["value"]
