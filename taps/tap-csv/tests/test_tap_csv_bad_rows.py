"""Bad rows stop the sync naming file and line (exit 1), or are skipped and counted; content
that cannot be read always stops it."""

from __future__ import annotations

import gzip
import random

import pytest

ROWS = "id,amount,day\n1,2.5,2024-01-01\n2,3.5\n3,n/a,2024-01-03\n4,1,2024-13-01\n5,1,2024-01-05\n"


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("id,amount\n1,2.5\n\n2,3.5,extra\n", 4, "3 fields, expected 2"),
        (
            'id,amount,note\n1,2.5,ok\n2,3.5,"two\nlines"\n3,x,bad\n',
            5,
            "column 'amount': 'x' is not a valid number",
        ),
    ],
    ids=["field-count", "conversion"],
)
def test_bad_row_fails_naming_file_and_line(tap_csv, text: str, line: int, reason: str) -> None:
    path = tap_csv.file("bad.csv", text)
    files = [{"entity": "bad", "path": path, "schema": {"amount": "number"}}]
    run = tap_csv.run({"files": files})
    assert run.returncode == 1
    assert f"tap-csv: DataError: stream 'bad': {path} line {line}: {reason}" in run.stderr
    assert "Traceback" not in run.stderr


def test_skipped_bad_rows_are_logged_and_counted(tap_csv) -> None:
    path = tap_csv.file("rows.csv", ROWS)
    schema = {"amount": "number", "day": "date"}
    files = [{"entity": "rows", "path": path, "schema": schema, "on_bad_row": "skip"}]
    run = tap_csv.sync({"files": files})
    assert run.records() == [
        {"id": 1, "amount": 2.5, "day": "2024-01-01"},
        {"id": 5, "amount": 1.0, "day": "2024-01-05"},
    ]
    assert f"{path} line 3: 2 fields, expected 3" in run.stderr
    assert f"{path} line 4: column 'amount': 'n/a' is not a valid number" in run.stderr
    assert f"{path} line 5: column 'day': '2024-13-01' is not a valid date" in run.stderr
    assert "stream 'rows': skipped 3 bad rows" in run.stderr


def test_unreadable_content_fails_naming_the_file(tap_csv) -> None:
    noise = random.Random(3)
    # enough (and incompressible enough) rows to lie past the first chunks read at discovery
    good = "".join(f"{i},{noise.randbytes(40).hex()}\n" for i in range(5000))
    undecodable = tap_csv.file("latin.csv", ("id,v\n" + good).encode() + b"1000,caf\xe9\n")
    tap_csv.file("parts/1.csv", "id,v\n1,a\n")
    tap_csv.file("parts/2.csv", "id,other\n2,b\n")
    truncated = tap_csv.file("cut.csv.gz", gzip.compress(("id,v\n" + good).encode())[:-30])
    cases = [
        ({"path": undecodable, "infer_rows": 1}, f"{undecodable} line", "not utf-8-sig text"),
        (
            {"path": f"{tap_csv.tmp_path}/parts/*.csv"},
            "parts/2.csv line 1: columns ['id', 'other'] differ",
            "",
        ),
        ({"path": truncated, "infer_rows": 1}, f"{truncated} line", "unreadable"),
    ]
    for entry, where, what in cases:
        run = tap_csv.run({"files": [dict(entry, entity="broken", on_bad_row="skip")]})
        assert run.returncode == 1, run.stderr
        assert "tap-csv: DataError: stream 'broken': " in run.stderr
        assert where in run.stderr
        assert what in run.stderr
