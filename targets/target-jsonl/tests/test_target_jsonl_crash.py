"""kill -9 at any instant: only complete files are visible, every echoed state is covered by
them, and the next run removes what the killed one left."""

from __future__ import annotations

import contextlib
import json
import os
import random
import threading
import time

import pytest


def wait_for(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def ids_on_disk(jsonl, stream: str) -> list[int]:
    """Every published record's id; ``read`` fails on a partial file."""
    return [row["id"] for row in jsonl.rows(stream)]


@pytest.mark.parametrize("compression", ["none", "gzip"])
def test_kill_9_mid_batch_shows_only_committed_files(jsonl, compression: str):
    messages = [jsonl.schema("users", payload={"type": "string"})]
    for n in range(1, 2001):
        messages.append(jsonl.record(id_=n))
        if n % 500 == 0:
            messages.append(jsonl.state(n))
    # an uncommitted tail big enough (2.1 MB) that part of it reaches the part file
    messages += [jsonl.record(id_=n, payload=os.urandom(1500).hex()) for n in range(2001, 2701)]
    messages.append(jsonl.state(2700))
    settings = {"batch_size_rows": 1000, "max_batch_age_seconds": 3600}
    with jsonl.start(compression=compression, **settings) as process:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(jsonl.encode(*messages))
        process.stdin.flush()
        echoed = [json.loads(process.stdout.readline()) for _ in range(4)]
        wait_for(lambda: any(path.stat().st_size > 0 for path in jsonl.parts()), "part data")
        process.kill()
        process.wait(timeout=60)

    assert echoed == [jsonl.state(n)["value"] for n in (500, 1000, 1500, 2000)]
    assert ids_on_disk(jsonl, "users") == list(range(1, 2001))
    assert len(jsonl.published()) == 2
    assert len(jsonl.parts()) == 1
    assert all(path.name.startswith(".") for path in jsonl.parts())

    resumed = [jsonl.schema("users")] + [jsonl.record(id_=n) for n in range(2001, 2101)]
    result = jsonl.run(jsonl.encode(*resumed), compression=compression)
    assert result.returncode == 0, result.stderr
    assert b"removed 1 uncommitted part file(s)" in result.stderr
    assert jsonl.parts() == []
    assert ids_on_disk(jsonl, "users") == list(range(1, 2101))


def feed_and_kill(jsonl, stream: str, delay: float, compression: str) -> list[dict]:
    """Stream 20,000 records (a STATE every 100) into a target over about a second, kill -9
    it after ``delay`` seconds and return the states it echoed."""
    messages = [jsonl.schema(stream)]
    for n in range(1, 20_001):
        messages.append(jsonl.record(stream, n))
        if n % 100 == 0:
            messages.append(jsonl.state(n))
    data = jsonl.encode(*messages)
    process = jsonl.start(batch_size_rows=250, max_batch_age_seconds=3600, compression=compression)
    assert process.stdin is not None and process.stdout is not None
    echoed: list[dict] = []

    def feed() -> None:
        slice_bytes = len(data) // 50 + 1
        try:
            for start in range(0, len(data), slice_bytes):
                process.stdin.write(data[start : start + slice_bytes])
                process.stdin.flush()
                time.sleep(0.02)
            process.stdin.close()
        except BrokenPipeError:
            pass

    def collect() -> None:
        for line in process.stdout:
            echoed.append(json.loads(line))

    threads = [threading.Thread(target=feed), threading.Thread(target=collect)]
    for thread in threads:
        thread.start()
    time.sleep(delay)
    process.kill()
    process.wait(timeout=60)
    for thread in threads:
        thread.join(timeout=60)
    process.stdout.close()
    with contextlib.suppress(BrokenPipeError):
        process.stdin.close()
    return echoed


def test_kill_9_at_random_instants_never_leaves_a_state_ahead_of_the_files(jsonl):
    chance = random.Random(20240131)
    for attempt in range(6):
        stream = f"s{attempt}"
        compression = "gzip" if attempt % 2 else "none"
        echoed = feed_and_kill(jsonl, stream, chance.uniform(0.05, 1.2), compression)
        on_disk = ids_on_disk(jsonl, stream)  # fails on any partial file
        assert on_disk == list(range(1, len(on_disk) + 1))  # whole batches, in order
        assert len(on_disk) % 250 == 0
        if echoed:
            last = echoed[-1]["bookmarks"]["users"]["id"]
            assert last <= len(on_disk), (attempt, last, len(on_disk))
    result = jsonl.run(b"")
    assert result.returncode == 0, result.stderr
    assert jsonl.parts() == []


def test_a_run_leaves_the_part_files_of_a_live_writer_alone(jsonl):
    with jsonl.start() as writer:
        assert writer.stdin is not None
        # over 1 MiB, so that the writer hands a chunk to its part file
        records = [jsonl.record("live", n, payload="x" * 400) for n in range(3000)]
        writer.stdin.write(jsonl.encode(jsonl.schema("live"), *records))
        writer.stdin.flush()
        wait_for(lambda: len(jsonl.parts()) == 1, "the live writer's part file")

        other = jsonl.run(jsonl.encode(jsonl.schema("other"), jsonl.record("other", 2)))
        assert other.returncode == 0, other.stderr
        assert b"removed" not in other.stderr
        assert len(jsonl.parts()) == 1

        writer.stdin.close()
        assert writer.wait(timeout=60) == 0
    assert [row["id"] for row in jsonl.rows("live")] == list(range(3000))
    assert jsonl.rows("other") == [{"id": 2}]
    assert jsonl.parts() == []
