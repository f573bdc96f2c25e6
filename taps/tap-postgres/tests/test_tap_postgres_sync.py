"""tap-postgres syncs: full table with ACTIVATE_VERSION, selection, incremental and resume."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from decimal import Decimal

import pytest

ROWS = 25_000  # three fetch batches: STATE after 10,000 and 20,000 records, and at the end


@pytest.fixture
def items(pg, pg_schema: str) -> str:
    pg.execute(
        f"""
        CREATE TABLE "{pg_schema}".items (
            id bigint PRIMARY KEY, name text, price numeric(10, 2), updated_at timestamptz NOT NULL
        );
        INSERT INTO "{pg_schema}".items
        SELECT g, 'item ' || g, g / 100.0,
               timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second'
        FROM generate_series(1, {ROWS}) AS g;
        """
    )
    return f"{pg_schema}-items"


def test_full_table_is_wrapped_in_activate_version_with_periodic_state(tap, items: str) -> None:
    started_ms = time.time() * 1000
    messages = tap.sync()
    kinds = [m["type"] for m in messages]
    assert kinds[:2] == ["SCHEMA", "ACTIVATE_VERSION"]
    version = messages[1]["version"]
    assert started_ms - 60_000 < version < time.time() * 1000  # epoch milliseconds

    records = [m for m in messages if m["type"] == "RECORD"]
    assert [r["record"]["id"] for r in records] == list(range(1, ROWS + 1))
    assert {r["version"] for r in records} == {version}
    assert records[0]["record"] == {
        "id": 1,
        "name": "item 1",
        "price": Decimal("0.01"),
        "updated_at": "2024-01-01T00:00:01+00:00",
    }
    assert "time_extracted" in records[0]

    # a STATE after every 10,000 records, then ACTIVATE_VERSION, then the stream's last STATE
    counted, states_after = 0, []
    for message in messages:
        counted += message["type"] == "RECORD"
        if message["type"] == "STATE":
            states_after.append(counted)
    assert states_after[:2] == [10_000, 20_000]
    assert kinds[-2:] == ["ACTIVATE_VERSION", "STATE"]
    assert messages[-2]["version"] == version
    assert kinds.index("ACTIVATE_VERSION", 2) > max(i for i, k in enumerate(kinds) if k == "RECORD")


def test_activate_version_can_be_turned_off(tap, items: str) -> None:
    config = {**tap.config, "emit_activate_version_messages": False}
    messages = tap.sync(config=config)
    assert "ACTIVATE_VERSION" not in {m["type"] for m in messages}
    assert all("version" not in m for m in messages if m["type"] == "RECORD")


def test_catalog_selects_streams_and_fields(tap, pg, items: str, pg_schema: str) -> None:
    pg.execute(f'CREATE TABLE "{pg_schema}".notes (id int PRIMARY KEY, body text)')
    pg.execute(f"INSERT INTO \"{pg_schema}\".notes VALUES (1, 'one')")
    catalog = tap.discover()
    tap.metadata(catalog, f"{pg_schema}-notes")["selected"] = False
    tap.metadata(catalog, items, "name")["selected"] = False
    tap.metadata(catalog, items, "id")["selected"] = False  # a key: always included
    messages = tap.sync(catalog=catalog)
    assert {m["stream"] for m in messages if "stream" in m} == {items}
    schema = next(m for m in messages if m["type"] == "SCHEMA")
    assert set(schema["schema"]["properties"]) == {"id", "price", "updated_at"}
    records = tap.records(messages)
    assert len(records) == ROWS
    assert all(set(record) == {"id", "price", "updated_at"} for record in records)


def incremental(tap, stream: str, key: str) -> dict:
    catalog = tap.discover()
    tap.metadata(catalog, stream)["replication-key"] = key
    return catalog


def test_incremental_rerun_sends_changed_rows_and_the_bookmark_row(
    tap, pg, items: str, pg_schema: str
) -> None:
    catalog = incremental(tap, items, "updated_at")
    first = tap.sync(catalog=catalog)
    assert len(tap.records(first)) == ROWS
    state = first[-1]["value"]
    assert state["bookmarks"][items] == {
        "replication_key": "updated_at",
        "replication_key_value": "2024-01-01T06:56:40+00:00",  # row 25,000
    }

    pg.execute(
        f"""UPDATE "{pg_schema}".items SET name = 'changed',
            updated_at = timestamptz '2024-02-01 00:00:00+00' + id * interval '1 microsecond'
            WHERE id % 2500 = 7"""
    )
    second = tap.sync(catalog=catalog, state=state)
    records = tap.records(second)
    changed = [r for r in records if r["name"] == "changed"]
    assert sorted(r["id"] for r in changed) == [7 + 2500 * n for n in range(10)]
    assert [r["id"] for r in records if r["name"] != "changed"] == [ROWS]  # the bookmark row
    assert [r["updated_at"] for r in records] == sorted(r["updated_at"] for r in records)
    assert second[-1]["value"]["bookmarks"][items]["replication_key_value"] == (
        "2024-02-01T00:00:00.022507+00:00"
    )

    third = tap.sync(catalog=catalog, state=second[-1]["value"])
    assert [r["id"] for r in tap.records(third)] == [22_507]


def test_killed_after_a_state_resumes_from_that_state(tap, items: str) -> None:
    catalog = incremental(tap, items, "id")
    command = [tap.exe, "--config", tap.write("tap.json", tap.config)]
    command += ["--catalog", tap.write("catalog.json", catalog)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=tap.run_env
    )
    assert process.stdout is not None
    seen, state = [], None
    for line in process.stdout:
        message = json.loads(line)
        if message["type"] == "RECORD":
            seen.append(message["record"]["id"])
        elif message["type"] == "STATE" and message["value"].get("bookmarks"):
            state = message["value"]
            break
    process.send_signal(signal.SIGKILL)  # mid-table: the tap is blocked writing batch two
    process.wait(timeout=30)
    process.stdout.close()
    assert process.returncode == -signal.SIGKILL
    assert state is not None
    assert state["bookmarks"][items] == {"replication_key": "id", "replication_key_value": 10_000}
    assert seen == list(range(1, 10_001))

    resumed = [r["id"] for r in tap.records(tap.sync(catalog=catalog, state=state))]
    assert resumed == list(range(10_000, ROWS + 1))  # from the bookmark row on, nothing skipped


def test_server_ending_the_session_mid_sync_is_a_connection_error(
    tap, pg, items: str, pg_schema: str
) -> None:
    catalog = incremental(tap, items, "id")
    config = tap.config
    url = f"postgresql://{config['user']}@{config['host']}:{config['port']}/{config['database']}"
    settings = {"sqlalchemy_url": f"{url}?application_name={pg_schema}"}
    command = [
        tap.exe,
        "--config",
        tap.write("tap.json", {**settings, "filter_schemas": [pg_schema]}),
    ]
    command += ["--catalog", tap.write("catalog.json", catalog)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=tap.run_env
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if json.loads(line)["type"] == "STATE":
            break  # a STATE is flushed at once: the tap is at most one batch further
    (ended,) = pg.execute(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
        (pg_schema,),
    ).fetchone()
    assert ended == 1
    rest, errors = process.communicate(timeout=60)
    assert process.returncode == 3, errors  # retryable: the server went away
    last = errors.decode().strip().splitlines()[-1]
    assert last.startswith(f"tap-postgres: ConnectionError: reading {items} failed: ")
    messages = [json.loads(line) for line in [*lines, *rest.splitlines()]]
    sent = 0
    for message in messages:  # every STATE's bookmark is a record already sent
        if message["type"] == "RECORD":
            sent = message["record"]["id"]
        elif message["type"] == "STATE":
            assert message["value"]["bookmarks"][items]["replication_key_value"] == sent
    assert sent < ROWS  # it did stop early


def test_unusable_replication_settings_exit_2(tap, items: str) -> None:
    catalog = tap.discover()
    for change, message in [
        ({"forced-replication-method": "INCREMENTAL"}, "needs a replication key"),
        ({"replication-key": "nope"}, "needs a replication key that is a column; got 'nope'"),
        ({"forced-replication-method": "LOG_BASED"}, "'LOG_BASED' is not supported"),
    ]:
        root = tap.metadata(catalog, items)
        root.pop("replication-key", None)
        root.update(change)
        result = tap.run(catalog=catalog)
        assert result.returncode == 2, result.stderr
        assert message in result.stderr
        assert "Traceback" not in result.stderr


def test_catalog_that_no_longer_fits_the_database_exits_2(tap, pg, items: str, pg_schema: str):
    catalog = tap.discover()
    pg.execute(f'ALTER TABLE "{pg_schema}".items DROP COLUMN name')
    result = tap.run(catalog=catalog)
    assert result.returncode == 2
    assert "fields that the table does not have: ['name']" in result.stderr

    pg.execute(f'DROP TABLE "{pg_schema}".items')
    result = tap.run(catalog=catalog)
    assert result.returncode == 2
    assert f"not found (or not readable) in the database: ['{items}']" in result.stderr
