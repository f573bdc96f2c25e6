"""Column types: inferred from a sample or declared, and every value converted to its type."""

from __future__ import annotations

TYPED = (
    "i,n,b,d,dt,s,z,e,big,yes,code,ratio\n"
    "1,1.5,true,2024-01-31,2024-01-31T10:00:00Z,hello,007,,12345678901234567890,yes,42,0.25\n"
    "-2,2,FALSE,,2024-01-31 12:30:00+02:00,,010,,1,no,43,nan\n"
    ",-3e2,,2024-02-29,2024-02-01,x,1,,2,Y,44,inf\n"
)


def schema_types(run, stream: str) -> dict[str, object]:
    schema = next(m for m in run.messages if m["type"] == "SCHEMA" and m["stream"] == stream)
    return {
        name: (prop["type"][0], prop.get("format"))
        for name, prop in schema["schema"]["properties"].items()
    }


def test_types_are_inferred_declared_and_converted(tap_csv) -> None:
    path = tap_csv.file("typed.csv", TYPED)
    declared = {"yes": "boolean", "code": "string", "ratio": "number"}
    files = [
        {"entity": "typed", "path": path, "schema": declared},
        {"entity": "strings", "path": path, "infer_rows": 0},
    ]
    run = tap_csv.sync({"files": files})
    assert schema_types(run, "typed") == {
        "i": ("integer", None),
        "n": ("number", None),
        "b": ("boolean", None),
        "d": ("string", "date"),
        "dt": ("string", "date-time"),
        "s": ("string", None),
        "z": ("string", None),  # leading zeros: codes, not numbers
        "e": ("string", None),  # no value in the sample
        "big": ("string", None),  # wider than 64 bits
        "yes": ("boolean", None),
        "code": ("string", None),
        "ratio": ("number", None),
    }
    assert run.records("typed") == [
        {
            "i": 1, "n": 1.5, "b": True, "d": "2024-01-31", "dt": "2024-01-31T10:00:00+00:00",
            "s": "hello", "z": "007", "e": "", "big": "12345678901234567890", "yes": True,
            "code": "42", "ratio": 0.25,
        },
        {
            "i": -2, "n": 2.0, "b": False, "d": None, "dt": "2024-01-31T10:30:00+00:00",
            "s": "", "z": "010", "e": "", "big": "1", "yes": False, "code": "43", "ratio": None,
        },
        {
            "i": None, "n": -300.0, "b": None, "d": "2024-02-29", "dt": "2024-02-01T00:00:00+00:00",
            "s": "x", "z": "1", "e": "", "big": "2", "yes": True, "code": "44", "ratio": None,
        },
    ]  # fmt: skip
    assert set(schema_types(run, "strings").values()) == {("string", None)}
    assert run.records("strings")[2]["i"] == ""


def test_inference_reads_only_infer_rows_rows_across_files(tap_csv) -> None:
    tap_csv.file("parts/1.csv", "v\n1\n")
    tap_csv.file("parts/2.csv", "v\n2\nthree\n")
    pattern = f"{tap_csv.tmp_path}/parts/*.csv"
    files = [
        {"entity": "two", "path": pattern, "infer_rows": 2, "on_bad_row": "skip"},
        {"entity": "three", "path": pattern, "infer_rows": 3},
    ]
    run = tap_csv.sync({"files": files})
    assert run.records("two") == [{"v": 1}, {"v": 2}]  # "three" is a bad row for an integer
    assert run.records("three") == [{"v": "1"}, {"v": "2"}, {"v": "three"}]
    assert "skipped 1 bad rows" in run.stderr
