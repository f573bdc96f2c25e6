"""Files: names, rotation at max_file_size_mb, compression, and no partial file visible after
kill -9 in the middle of a batch."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time

import pyarrow.parquet as pq

PAYLOAD = {"id": {"type": "integer"}, "text": {"type": "string"}}


def payload_records(parquet, first: int, last: int) -> bytes:
    return b"".join(
        parquet.encode(parquet.record(id_=index, text=f"{index:08d}-" + os.urandom(40).hex()))
        for index in range(first, last + 1)
    )


def test_files_rotate_before_they_pass_max_file_size(parquet):
    stream = parquet.encode(parquet.schema(**PAYLOAD)) + payload_records(parquet, 1, 50_000)
    result = parquet.run(stream, max_file_size_mb=0.5, batch_size_rows=1_000_000)
    assert result.returncode == 0, result.stderr
    files = parquet.files()
    sizes = [path.stat().st_size for path in files]
    assert len(files) >= 4, sizes
    assert max(sizes) <= 500_000 * 1.05  # the footer comes on top of the estimate
    assert min(sizes[:-1]) >= 500_000 * 0.5  # files are filled, not split needlessly
    assert [row["id"] for row in parquet.rows()] == list(range(1, 50_001))
    assert len({path.name.rsplit("-", 1)[0] for path in files}) == 1  # one run prefix
    assert [int(path.stem.rsplit("-", 1)[1]) for path in files] == list(range(1, len(files) + 1))


def test_each_commit_writes_new_files_and_runs_never_collide(parquet):
    stream = parquet.encode(parquet.schema(), *(parquet.record(id_=index) for index in range(6)))
    assert parquet.run(stream, batch_size_rows=2).returncode == 0
    assert parquet.run(stream, batch_size_rows=3).returncode == 0
    assert len(parquet.files()) == 3 + 2
    assert sorted(row["id"] for row in parquet.rows()) == sorted([*range(6), *range(6)])


def test_compression_codec_is_applied(parquet):
    stream = parquet.encode(parquet.schema(), parquet.record(id_=1, name="x"))
    for codec, expected in (("snappy", "SNAPPY"), ("none", "UNCOMPRESSED"), ("zstd", "ZSTD")):
        before = set(parquet.files())
        assert parquet.run(stream, compression=codec).returncode == 0
        (written,) = set(parquet.files()) - before  # names sort by second, not by run
        assert pq.ParquetFile(written).metadata.row_group(0).column(0).compression == expected


def test_kill_9_mid_batch_leaves_no_partial_file_and_echoed_states_covered(parquet):
    """The target is killed while it writes a batch (a temporary file exists): every visible
    file is whole, and every record before the last echoed state is in them."""
    messages = [parquet.encode(parquet.schema(**PAYLOAD))]
    for first in range(1, 120_001, 10_000):
        messages.append(payload_records(parquet, first, first + 9_999))
        messages.append(parquet.encode(parquet.state(first + 9_999)))
    process = parquet.start(batch_size_rows=40_000, max_file_size_mb=0.2)
    assert process.stdin is not None and process.stdout is not None
    feeder = threading.Thread(target=_feed, args=(process.stdin, messages), daemon=True)
    feeder.start()
    first_state = process.stdout.readline()  # one batch committed; wait for the next one
    assert first_state
    deadline = time.monotonic() + 30
    while not parquet.tmp_files() and time.monotonic() < deadline:
        time.sleep(0.001)
    assert parquet.tmp_files(), "no batch was caught being written"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    echoed = [json.loads(line) for line in [first_state, *process.stdout.read().splitlines()]]
    process.stdout.close()
    feeder.join(timeout=30)

    ids = {row["id"] for row in parquet.rows()}  # reads every visible file whole
    last_state = echoed[-1]["bookmarks"]["users"]["id"]
    assert set(range(1, last_state + 1)) <= ids
    assert ids <= set(range(1, 120_001))
    assert all(path.suffix == ".parquet" for path in parquet.files())
    assert parquet.tmp_files(), "the killed run's temporary file should still be there"

    assert parquet.run(b"").returncode == 0  # the next run removes the orphan
    assert parquet.tmp_files() == []


def _feed(stdin, messages: list[bytes]) -> None:
    with contextlib.suppress(BrokenPipeError):
        for chunk in messages:
            stdin.write(chunk)
    with contextlib.suppress(BrokenPipeError):
        stdin.close()  # closes the pipe even when flushing fails
