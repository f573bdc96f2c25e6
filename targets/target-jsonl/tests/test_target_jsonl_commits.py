"""Commits: files published per stream and batch, STATE echoed only once its records are
durable, batch size and age, bounded memory."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

GEN_STREAM = Path(__file__).resolve().parents[3] / "bench" / "programs" / "gen_stream.py"


def test_records_land_in_files_named_by_stream_run_and_sequence(jsonl):
    nested = {"id": 3, "tags": ["a", "é"], "amount": 12.5, "meta": {"ok": True, "none": None}}
    stream = jsonl.encode(
        jsonl.schema("users"),
        jsonl.schema("orders"),
        jsonl.record("users", 1, name="Ada"),
        jsonl.record("orders", 2, name=None),
        {"type": "RECORD", "stream": "orders", "record": nested},
        {"type": "ACTIVATE_VERSION", "stream": "orders", "version": 1},
        jsonl.record("users", 4, name="Grace"),
    )
    result = jsonl.run(stream)
    assert result.returncode == 0, result.stderr
    names = sorted(path.name for path in jsonl.out.iterdir())
    assert len(names) == 2
    for name, stream_name in zip(names, ["orders", "users"], strict=True):
        assert re.fullmatch(rf"{stream_name}-\d{{8}}T\d{{6}}Z-000001\.jsonl", name)
    assert jsonl.rows("users") == [{"id": 1, "name": "Ada"}, {"id": 4, "name": "Grace"}]
    assert jsonl.rows("orders") == [{"id": 2, "name": None}, nested]
    assert b"warning" not in result.stderr
    assert b"4 records in 2 file(s)" in result.stderr


def test_last_state_is_echoed_at_the_end(jsonl):
    messages = [jsonl.schema(), jsonl.record(id_=1), jsonl.state(1)]
    result = jsonl.run(jsonl.encode(*messages, jsonl.record(id_=2), jsonl.state(2)))
    assert result.returncode == 0, result.stderr
    assert jsonl.echoed(result) == [jsonl.state(2)["value"]]


def test_state_is_echoed_only_once_its_records_are_published(jsonl):
    with jsonl.start(batch_size_rows=2, max_batch_age_seconds=3600) as process:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(
            jsonl.encode(
                jsonl.schema(),
                jsonl.record(id_=1),
                jsonl.state(1),  # pending: record 1 is not committed yet
                jsonl.record(id_=2),  # second record: commit, then state(1) is echoed
                jsonl.state(2),  # nothing pending: echoed at once
                jsonl.record(id_=3),  # pending, and no STATE after it
            )
        )
        process.stdin.flush()
        first = json.loads(process.stdout.readline())  # blocks until the target echoes
        published_then = jsonl.rows("users")
        second = json.loads(process.stdout.readline())
        process.stdin.close()
        assert process.wait(timeout=60) == 0
        rest = process.stdout.read()
    assert first == jsonl.state(1)["value"]
    assert published_then == [{"id": 1}, {"id": 2}]
    assert second == jsonl.state(2)["value"]
    assert rest == b""
    assert jsonl.rows("users") == [{"id": 1}, {"id": 2}, {"id": 3}]
    assert len(jsonl.published("users")) == 2  # one file per commit


def test_small_batches_echo_several_states_in_order_one_file_per_commit(jsonl):
    messages = [jsonl.schema()]
    for position in range(1, 6):
        messages += [jsonl.record(id_=position), jsonl.state(position)]
    result = jsonl.run(jsonl.encode(*messages), batch_size_rows=2, max_batch_age_seconds=3600)
    assert result.returncode == 0, result.stderr
    # commits at records 2 and 4 echo the states before them; the states right after are
    # echoed at once (nothing pending); the end commits record 5 and echoes state 5
    assert jsonl.echoed(result) == [jsonl.state(n)["value"] for n in (1, 2, 3, 4, 5)]
    files = jsonl.published("users")
    assert [len(jsonl.read(path)) for path in files] == [2, 2, 1]
    assert [path.name[-12:] for path in files] == [f"{n:06d}.jsonl" for n in (1, 2, 3)]


def test_batch_size_commits_without_any_state(jsonl):
    messages = [jsonl.record(id_=n) for n in range(1, 8)]
    result = jsonl.run(jsonl.encode(jsonl.schema(), *messages), batch_size_rows=3)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b""
    assert [len(jsonl.read(path)) for path in jsonl.published()] == [3, 3, 1]


def test_zero_batch_age_commits_at_every_state(jsonl):
    messages = [jsonl.schema(), jsonl.state(0), jsonl.record(id_=1), jsonl.state(1)]
    messages += [jsonl.record(id_=2), jsonl.state(2)]
    result = jsonl.run(jsonl.encode(*messages), max_batch_age_seconds=0)
    assert jsonl.echoed(result) == [jsonl.state(n)["value"] for n in (0, 1, 2)]
    assert len(jsonl.published()) == 2


def test_a_state_arriving_after_the_batch_age_commits_while_input_goes_on(jsonl):
    with jsonl.start(max_batch_age_seconds=1) as process:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(jsonl.encode(jsonl.schema(), jsonl.state(0)))
        process.stdin.flush()
        started = json.loads(process.stdout.readline())  # nothing pending: echoed at once
        process.stdin.write(jsonl.encode(jsonl.record(id_=1), jsonl.state(1)))
        process.stdin.flush()
        time.sleep(1.2)  # state(1) came too early to commit; state(2) comes late enough
        process.stdin.write(jsonl.encode(jsonl.record(id_=2), jsonl.state(2)))
        process.stdin.flush()
        echoed = json.loads(process.stdout.readline())  # stdin is still open
        published_then = jsonl.rows("users")
        process.stdin.close()
        assert process.wait(timeout=60) == 0
    assert started == jsonl.state(0)["value"]
    # state(2) (state(1) only if the machine stalled for a second) committed the records
    # before it while stdin stayed open
    position = echoed["bookmarks"]["users"]["id"]
    assert position in (1, 2)
    assert published_then[:position] == [{"id": n} for n in range(1, position + 1)]


def test_no_state_means_nothing_on_stdout(jsonl):
    result = jsonl.run(jsonl.encode(jsonl.schema(), jsonl.record(id_=1)))
    assert result.returncode == 0, result.stderr
    assert result.stdout == b""
    assert jsonl.rows("users") == [{"id": 1}]


def test_successive_runs_add_files_and_never_touch_published_ones(jsonl):
    jsonl.run(jsonl.encode(jsonl.schema(), jsonl.record(id_=1)))
    [first] = jsonl.published()
    before = (first.read_bytes(), first.stat().st_mtime_ns, first.stat().st_ino)
    jsonl.run(jsonl.encode(jsonl.schema(), jsonl.record(id_=2)))
    assert (first.read_bytes(), first.stat().st_mtime_ns, first.stat().st_ino) == before
    assert len(jsonl.published()) == 2
    assert sorted(row["id"] for row in jsonl.rows("users")) == [1, 2]


def peak_rss_kib(command: list[str], stdin: Path) -> int:
    """Peak RSS of ``command`` alone, measured by a fresh parent that waits only for it."""
    probe = (
        "import resource, subprocess, sys\n"
        "with open(sys.argv[1], 'rb') as stdin:\n"
        "    subprocess.run(sys.argv[2:], stdin=stdin, stdout=subprocess.DEVNULL, check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(stdin), *command],
        capture_output=True,
        timeout=60,
        check=True,
    )
    return int(result.stdout)


def test_memory_does_not_grow_with_the_stream(jsonl, tmp_path: Path):
    sizes = {}
    for records in (5_000, 100_000):
        stream = tmp_path / f"events-{records}.singer"
        subprocess.run(
            [sys.executable, str(GEN_STREAM), "--records", str(records), "--out", str(stream)],
            check=True,
            timeout=60,
        )
        config = jsonl.config(f"c{records}.json", destination_path=str(tmp_path / f"o{records}"))
        sizes[records] = peak_rss_kib([jsonl.executable, "--config", str(config)], stream)
        stream.unlink()
    assert sizes[100_000] - sizes[5_000] < 8 * 1024, sizes


def test_memory_stays_bounded_with_many_streams(jsonl, tmp_path: Path):
    """64 interleaved streams of 1 MB each hold at most 16 MiB pending, not 64 MiB."""
    line = '{"type":"RECORD","stream":"s%d","record":{"id":%d,"payload":"%s"}}\n'
    rss = {}
    for streams, records in ((1, 1_000), (64, 64_000)):
        stream = tmp_path / f"streams-{streams}.singer"
        with stream.open("w") as file:
            file.writelines(json.dumps(jsonl.schema(f"s{n}")) + "\n" for n in range(streams))
            file.writelines(line % (n % streams, n, "p" * 1000) for n in range(records))
        config = jsonl.config(f"m{streams}.json", destination_path=str(tmp_path / f"m{streams}"))
        rss[streams] = peak_rss_kib([jsonl.executable, "--config", str(config)], stream)
        stream.unlink()
        files = sorted((tmp_path / f"m{streams}").glob("s0-*"))
        assert sum(len(jsonl.read(path)) for path in files) == records // streams
    assert rss[64] - rss[1] < 24 * 1024, rss
