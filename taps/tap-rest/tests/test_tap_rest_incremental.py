"""Incremental reads: the bookmark is sent as a query parameter, kept as the maximum seen,
checkpointed every 10,000 records, and a second run resumes from it."""

from __future__ import annotations


def event(n: int) -> dict:
    return {"id": n, "updated_at": f"2024-01-{n:02d}T00:00:00Z", "kind": "click"}


def test_second_run_sends_the_bookmark_and_gets_only_newer_records(api, run_tap) -> None:
    events = [event(n) for n in (3, 1, 5, 2, 4)]  # unordered: the bookmark is the maximum

    def changes(seen):
        since = seen.query.get("since", "")
        return {"events": [e for e in events if e["updated_at"] > since]}

    api.route("/events", changes)
    config = api.config(
        {
            "name": "events",
            "path": "/events",
            "records_path": "events",
            "primary_keys": ["id"],
            "replication_key": "updated_at",
            "incremental_param": "since",
            "params": {"order": "random"},
            "schema": {
                "properties": {
                    "id": {"type": "integer"},
                    "updated_at": {"type": "string", "format": "date-time"},
                    "kind": {"type": "string"},
                }
            },
        }
    )

    first = run_tap(config)

    assert first.returncode == 0, first.stderr
    assert [r["id"] for r in first.records()] == [3, 1, 5, 2, 4]
    assert api.requests_to("/events")[0].query == {"order": "random"}
    bookmark = first.states()[-1]["bookmarks"]["events"]
    assert bookmark == {
        "replication_key": "updated_at",
        "replication_key_value": event(5)["updated_at"],
    }

    events.extend([event(7), event(6)])
    second = run_tap(config, state=first.states()[-1])

    assert second.returncode == 0, second.stderr
    assert api.requests_to("/events")[-1].query == {
        "order": "random",
        "since": "2024-01-05T00:00:00Z",
    }
    assert [r["id"] for r in second.records()] == [7, 6]
    bookmark = second.states()[-1]["bookmarks"]["events"]
    assert bookmark["replication_key_value"] == event(7)["updated_at"]
    assert second.messages[0]["type"] == "STATE"  # the state it started from, first
    assert second.messages[1]["type"] == "SCHEMA"


def test_sorted_stream_checkpoints_every_10000_records_and_resumes_mid_stream(api, run_tap) -> None:
    total, page_size = 20_500, 5_000

    def ticks(seen):
        since = int(seen.query.get("after_id", "0"))
        start = since + int(seen.query["offset"])
        return [{"id": n} for n in range(start + 1, min(start + page_size, total) + 1)]

    api.route("/ticks", ticks)
    config = api.config(
        {
            "name": "ticks",
            "path": "/ticks",
            "replication_key": "id",
            "records_sorted": True,
            "incremental_param": "after_id",
            "schema": {"properties": {"id": {"type": "integer"}}},
            "pagination": {"type": "offset"},
        }
    )

    full = run_tap(config)

    assert full.returncode == 0, full.stderr
    assert len(full.records()) == total
    states, seen_records = [], 0
    for message in full.messages:
        seen_records += message["type"] == "RECORD"
        if message["type"] == "STATE":
            states.append((seen_records, message["value"]["bookmarks"]["ticks"]))
    assert [count for count, _ in states] == [10_000, 20_000, total]
    assert [bookmark["replication_key_value"] for _, bookmark in states] == [10_000, 20_000, total]

    interrupted = {"bookmarks": {"ticks": states[0][1]}}  # as if killed after 10,000
    resumed = run_tap(config, state=interrupted)

    assert resumed.returncode == 0, resumed.stderr
    assert api.requests_to("/ticks")[-1].query["after_id"] == "10000"
    ids = [r["id"] for r in resumed.records()]
    assert ids == list(range(10_001, total + 1))


def test_unsorted_and_full_table_streams_checkpoint_without_skipping(api, run_tap) -> None:
    total = 10_500
    rows = [{"id": n} for n in range(total, 0, -1)]  # newest first
    api.route("/feed", lambda seen: rows)
    api.route("/log", lambda seen: rows)
    schema = {"properties": {"id": {"type": "integer"}}}
    config = api.config(
        {
            "name": "feed",
            "path": "/feed",
            "replication_key": "id",
            "incremental_param": "since_id",
            "schema": schema,
        },
        {"name": "log", "path": "/log", "schema": schema},
    )
    start = {"bookmarks": {"feed": {"replication_key": "id", "replication_key_value": 7}}}

    run = run_tap(config, state=start)

    assert run.returncode == 0, run.stderr
    assert api.requests_to("/feed")[0].query == {"since_id": "7"}
    states, records = {}, {"feed": 0, "log": 0}
    for message in run.messages:
        if message["type"] == "RECORD":
            records[message["stream"]] += 1
        elif message["type"] == "STATE":
            states[tuple(records.values())] = message["value"]["bookmarks"]
    assert list(states) == [(0, 0), (10_000, 0), (total, 0), (total, 10_000), (total, total)]
    # Mid-stream the resumable bookmark stays where the run started: if the run died here,
    # the next one would re-read records rather than skip the ones not yet seen.
    assert states[10_000, 0]["feed"]["replication_key_value"] == 7
    assert states[total, 0]["feed"] == {"replication_key": "id", "replication_key_value": total}
    # A full-table stream's state does not change, yet it checkpoints and ends with a STATE.
    assert states[total, 10_000]["log"] == states[total, total]["log"] == {}


def test_records_sorted_with_unsorted_records_is_a_configuration_error(api, run_tap) -> None:
    api.route("/feed", lambda seen: [{"id": 2}, {"id": 1}])
    config = api.config(
        {
            "name": "feed",
            "path": "/feed",
            "replication_key": "id",
            "records_sorted": True,
            "schema": {"properties": {"id": {"type": "integer"}}},
        }
    )

    run = run_tap(config)

    assert run.returncode == 2
    assert "set records_sorted to false" in run.stderr.splitlines()[-1]
    assert "Traceback" not in run.stderr
