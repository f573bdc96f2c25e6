"""The fast path against the SDK's per-record path (taken when a stream has a stream map):
same records, same bookmarks, a STATE every 10,000 records; whole lines when stopped."""

from __future__ import annotations

import json
import random
import signal
import subprocess

ROWS = 20_500


def shuffled_rows(tap_csv) -> str:
    ids = list(range(1, ROWS + 1))
    random.Random(7).shuffle(ids)
    lines = [
        f"{i},2024-01-{1 + i % 28:02d}T{i % 24:02d}:00:00Z,{i * 0.5},{'true' if i % 2 else 'false'}"
        for i in ids
    ]
    return tap_csv.file("big.csv", "id,at,amount,flag\n" + "\n".join(lines) + "\n")


def states_after(messages: list[dict], stream: str) -> list[tuple[int, dict]]:
    """(records of `stream` so far, state value) for each STATE."""
    count, found = 0, []
    for message in messages:
        if message["type"] == "RECORD" and message["stream"] == stream:
            count += 1
        elif message["type"] == "STATE":
            found.append((count, message["value"]))
    return found


def test_fast_path_and_sdk_path_agree_and_checkpoint_every_10k(tap_csv) -> None:
    path = shuffled_rows(tap_csv)
    files = [
        {"entity": "full", "path": path, "keys": ["id"]},
        {"entity": "bykey", "path": path, "keys": ["id"], "replication_key": "id"},
    ]
    fast = tap_csv.sync({"files": files})
    aliases = {"full": {"__alias__": "full"}, "bykey": {"__alias__": "bykey"}}
    sdk = tap_csv.sync({"files": files, "stream_maps": aliases})

    assert len(fast.records("full")) == ROWS
    assert fast.records("full")[0] == sdk.records("full")[0]
    assert fast.records() == sdk.records()
    assert fast.states[-1] == sdk.states[-1]
    assert fast.bookmark("bykey") == {"replication_key": "id", "replication_key_value": ROWS}
    # the fast path stamps time_extracted once per 10,000 records
    records = [m for m in fast.messages if m["type"] == "RECORD" and m["stream"] == "full"]
    assert len({record["time_extracted"] for record in records}) == 3

    for run in (fast, sdk):
        full = [count for count, _ in states_after(run.messages, "full")]
        assert {10_000, 20_000, ROWS} <= set(full)
        interim = [
            value for count, value in states_after(run.messages, "bykey") if 0 < count < ROWS
        ]
        assert interim, "no STATE within the bykey stream"
        markers = interim[0]["bookmarks"]["bykey"]
        assert "replication_key_value" not in markers  # not resumable until the stream ends
        assert markers["progress_markers"]["replication_key_value"] > 10_000


def test_activate_version_on_the_fast_path(tap_csv) -> None:
    path = tap_csv.file("small.csv", "id\n1\n2\n")
    config = {"files": [{"entity": "s", "path": path}], "emit_activate_version_messages": True}
    run = tap_csv.sync(config)
    kinds = [message["type"] for message in run.messages]
    assert kinds[:4] == ["SCHEMA", "ACTIVATE_VERSION", "RECORD", "RECORD"]
    version = run.messages[1]["version"]
    assert [message["version"] for message in run.messages[2:4]] == [version, version]


def test_sigterm_mid_sync_leaves_whole_lines_and_a_final_state(tap_csv) -> None:
    rows = "".join(f"{i},{'n' * 60}\n" for i in range(400_000))
    path = tap_csv.file("long.csv", "id,note\n" + rows)
    config = tap_csv.write_json("tap.json", {"files": [{"entity": "long", "path": path}]})
    process = subprocess.Popen(
        [tap_csv.executable, "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    first = process.stdout.readline()  # the SCHEMA: the sync has started
    first += process.stdout.read(4 << 20)  # some 4 MiB of records: well before the end
    process.send_signal(signal.SIGTERM)
    rest = process.stdout.read()  # (communicate() would skip what the reader has buffered)
    process.stdout.close()
    process.wait(timeout=60)
    messages = [json.loads(line) for line in (first + rest).splitlines()]  # all whole lines
    records = [message for message in messages if message["type"] == "RECORD"]
    assert 0 < len(records) < 400_000
    assert messages[-1]["type"] == "STATE"
    assert process.returncode == 0  # the Singer SDK's graceful shutdown
