"""Exactly-once replays: a target killed (SIGKILL) between two commits, then the same input
rerun under the same run_id, leaves every record in the table once."""

from __future__ import annotations

import json
import signal

RUN = "replayed-run"


def test_kill_between_two_commits_then_rerun_writes_every_record_once(iceberg):
    messages = [iceberg.schema()]
    for index in range(1, 8):
        messages.append(iceberg.record(id_=index, name=f"n{index}"))
        if index % 3 == 0:
            messages.append(iceberg.state(index))
    messages.append(iceberg.state(7))
    lines = iceberg.encode(*messages).splitlines(keepends=True)

    process = iceberg.start(batch_size_rows=3, run_id=RUN)
    try:
        # two flushes (records 1-3 and 4-6), each confirmed by its STATE on stdout
        for line in lines[:9]:
            process.stdin.write(line)
        process.stdin.flush()
        echoed = [json.loads(process.stdout.readline()) for _ in range(2)]
        assert echoed == [iceberg.state(3)["value"], iceberg.state(6)["value"]]
        process.stdin.write(lines[9])  # record 7, buffered, never committed
        process.stdin.flush()
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        process.stdin.close()
        process.stdout.close()
    assert sorted(row["id"] for row in iceberg.rows()) == [1, 2, 3, 4, 5, 6]

    # the replay batches differently: the skip is by record count, not by batch
    result = iceberg.run(b"".join(lines), batch_size_rows=2, run_id=RUN)
    assert result.returncode == 0, result.stderr.decode()
    assert (
        b"load replayed-run already committed the next 6 records (after start) to default.users"
        in result.stderr
    )
    assert b"6 skipped as already committed" in result.stderr
    assert iceberg.echoed(result)[-1] == iceberg.state(7)["value"]
    rows = sorted(iceberg.rows(), key=lambda row: row["id"])
    assert rows == [{"id": index, "name": f"n{index}"} for index in range(1, 8)]
    assert iceberg.marks() == [
        ("append", RUN, "1", "3"),
        ("append", RUN, "2", "6"),
        ("append", RUN, "3", "7"),
    ]


def test_another_run_id_appends_again(iceberg):
    """Without the same run_id a rerun is a new load: append keeps both copies."""
    stream = iceberg.encode(iceberg.schema(), iceberg.record(id_=1), iceberg.state(1))
    assert iceberg.run(stream, run_id="first").returncode == 0
    assert iceberg.run(stream, run_id="second").returncode == 0
    assert [row["id"] for row in iceberg.rows()] == [1, 1]
    assert [mark[1] for mark in iceberg.marks()] == ["first", "second"]
