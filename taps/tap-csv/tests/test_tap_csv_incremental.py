"""Incremental syncs: by replication key (rows appended, rerun with the state) and by file
modification time (only new or modified files)."""

from __future__ import annotations

import os
from pathlib import Path

FIRST = (
    "id,at,v\n"
    "3,2024-01-03T00:00:00Z,c\n"
    "1,2024-01-01T00:00:00Z,a\n"
    "2,2024-01-02T09:00:00+02:00,b\n"
    "8,,no key yet\n"
)
APPENDED = (
    "4,2024-01-02T23:00:00Z,older\n"
    "5,2024-01-03T01:00:00+02:00,older in UTC\n"  # 2024-01-02T23:00Z, though its text sorts after
    "6,2024-01-04T00:00:00Z,newer\n"
    "7,,no key\n"
)


def test_replication_key_emits_rows_at_or_after_the_bookmark(tap_csv) -> None:
    path = tap_csv.file("events.csv", FIRST)
    config = {"files": [{"entity": "events", "path": path, "replication_key": "at"}]}
    first = tap_csv.sync(config)
    assert [record["id"] for record in first.records()] == [3, 1, 2, 8]
    assert first.bookmark("events") == {
        "replication_key": "at",
        "replication_key_value": "2024-01-03T00:00:00+00:00",
    }

    with Path(path).open("a") as file:
        file.write(APPENDED)
    second = tap_csv.sync(config, state=first.states[-1])
    # inclusive: the row at the bookmark comes again; older rows and rows without key do not
    assert [record["id"] for record in second.records()] == [3, 6]
    assert second.bookmark("events")["replication_key_value"] == "2024-01-04T00:00:00+00:00"

    third = tap_csv.sync(config, state=second.states[-1])
    assert [record["id"] for record in third.records()] == [6]
    assert third.bookmark("events") == second.bookmark("events")


def set_mtime(path: str, seconds: int) -> None:
    os.utime(path, ns=(seconds * 10**9, seconds * 10**9))


def test_modified_time_reads_only_new_or_modified_files(tap_csv) -> None:
    a = tap_csv.file("in/a.csv", "id,v\n1,a1\n2,a2\n")
    b = tap_csv.file("in/b.csv", "id,v\n3,b1\n")
    set_mtime(b, 1_700_000_000)
    set_mtime(a, 1_700_000_100)  # newer than b: read after it
    entry = {"entity": "landing", "path": f"{tap_csv.tmp_path}/in", "keys": ["id"]}
    config = {"files": [dict(entry, incremental="file_modified_time")]}

    first = tap_csv.sync(config)
    assert [record["id"] for record in first.records()] == [3, 1, 2]
    bookmarks = [state["bookmarks"]["landing"].get("file_modified_time") for state in first.states]
    assert {"mtime_ns": 1_700_000_000 * 10**9, "paths": [b]} in bookmarks  # after b, before a
    assert first.bookmark("landing")["file_modified_time"] == {
        "mtime_ns": 1_700_000_100 * 10**9,
        "paths": [a],
    }

    untouched = tap_csv.sync(config, state=first.states[-1])
    assert untouched.records() == []
    assert untouched.bookmark("landing") == first.bookmark("landing")

    with Path(b).open("a") as file:
        file.write("4,b2\n")
    set_mtime(b, 1_700_000_200)
    modified = tap_csv.sync(config, state=untouched.states[-1])
    assert [record["id"] for record in modified.records()] == [3, 4]  # that file, whole

    c = tap_csv.file("in/c.csv", "id,v\n5,c1\n")
    set_mtime(c, 1_700_000_200)  # the same time as the bookmark, but not read yet
    same_time = tap_csv.sync(config, state=modified.states[-1])
    assert [record["id"] for record in same_time.records()] == [5]
    assert same_time.bookmark("landing")["file_modified_time"]["paths"] == [b, c]

    again = tap_csv.sync(config, state=same_time.states[-1])
    assert again.records() == []
