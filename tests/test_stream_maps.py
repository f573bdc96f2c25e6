"""Inline stream maps (`stream_maps:` in a job) through real `dativo run` pipelines: a canned
tap or tap-csv into the real target-jsonl; bad maps stopped before anything starts; the
expression whitelist."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from dativo_ingest.protocol.expressions import ExpressionError, compile_expression
from dativo_ingest.state import open_store
from tests.conftest import PROGRAMS

CANNED_TAP = str(PROGRAMS / "canned_tap.py")


def _line(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":")) + "\n"


USERS_SCHEMA = {
    "type": "SCHEMA",
    "stream": "users",
    "key_properties": ["id"],
    "schema": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "email": {"type": "string"},
            "secret": {"type": "string"},
            "age": {"type": "integer"},
        },
        "required": ["id", "secret"],
    },
}
ITEMS_SCHEMA = {
    "type": "SCHEMA",
    "stream": "items",
    "key_properties": ["id"],
    "schema": {"type": "object", "properties": {"id": {"type": "integer"}}},
}
USERS = [{"id": i, "email": f"u{i}@x.org", "secret": "s", "age": 10 * i} for i in range(1, 6)]
MAPS = {
    "users": {
        "__alias__": "people",
        "__filter__": "age >= 20",
        "user_id": "id",
        "id": None,
        "secret": None,
        "email_hash": "md5(email)",
        "domain": "email.split('@')[-1].upper()",
        "next_age": {"expression": "age + 1", "type": "integer"},
    }
}


def canned_stream() -> str:
    lines = [_line(USERS_SCHEMA), _line(ITEMS_SCHEMA)]
    for user in USERS:
        lines.append(_line({"type": "RECORD", "stream": "users", "record": user}))
        lines.append(_line({"type": "RECORD", "stream": "items", "record": {"id": user["id"]}}))
    lines.append(_line({"type": "STATE", "value": {"bookmarks": {"users": {"id": 5}}}}))
    return "".join(lines)


def write_job(tmp_path: Path, source: dict[str, Any], target: dict[str, Any], **extra: Any) -> Path:
    job = tmp_path / "job.yaml"
    document = {"tenant_id": "acme", "name": "job", "source": source, "target": target, **extra}
    job.write_text(yaml.safe_dump(document))
    return job


def read_stream(out: Path, stream: str) -> list[dict[str, Any]]:
    files = sorted(out.glob(f"{stream}-*.jsonl"))
    return [json.loads(line) for f in files for line in f.read_text().splitlines()]


@pytest.fixture
def canned_job(tmp_path, connector_exe):
    """A job replaying ``stream`` (default: the canned users and items) into target-jsonl."""

    def make(maps: Any, stream: str | None = None, echo: bool = False) -> tuple[Path, Path]:
        stream_file, out = tmp_path / "stream.singer", tmp_path / "out"
        stream_file.write_text(canned_stream() if stream is None else stream)
        source = {"executable": CANNED_TAP, "config": {"stream_file": str(stream_file)}}
        if echo:  # the fake target keeps every line it receives
            target = {
                "executable": str(PROGRAMS / "fake_target.py"),
                "config": {"received": str(tmp_path / "received.singer")},
            }
        else:
            exe = connector_exe("target-jsonl")
            target = {"executable": exe, "config": {"destination_path": str(out)}}
        return write_job(tmp_path, source, target, stream_maps=maps), out

    return make


def test_rename_drop_hash_filter_alias_into_target_jsonl(canned_job, dativo, home):
    job, out = canned_job(MAPS)
    result = dativo("run", job)
    assert result.returncode == 0, result.stderr
    people = read_stream(out, "people")
    assert people == [
        {
            "age": 10 * i,
            "email": f"u{i}@x.org",
            "user_id": i,
            "email_hash": hashlib.md5(f"u{i}@x.org".encode()).hexdigest(),
            "domain": "X.ORG",
            "next_age": 10 * i + 1,
        }
        for i in range(2, 6)
    ]
    assert not list(out.glob("users-*"))
    assert read_stream(out, "items") == [{"id": i} for i in range(1, 6)]  # unmapped: as sent
    store = open_store(home)
    try:
        assert store.get_state("acme/job").value == {"bookmarks": {"users": {"id": 5}}}
        assert store.list_runs(1)[0].records == 9  # one user filtered out
    finally:
        store.close()


def test_schema_rewritten_to_match(canned_job, dativo, tmp_path):
    job, _ = canned_job(MAPS, echo=True)
    result = dativo("run", job)
    assert result.returncode == 0, result.stderr
    lines = (tmp_path / "received.singer").read_text().splitlines()
    received = [json.loads(line) for line in lines]
    schema = next(m for m in received if m["type"] == "SCHEMA" and m["stream"] == "people")
    assert schema["key_properties"] == ["user_id"]  # the key, renamed
    assert schema["schema"]["properties"] == {
        "email": {"type": "string"},
        "age": {"type": "integer"},
        "user_id": {"type": "integer"},  # copied from id
        "email_hash": {"type": ["string", "null"]},
        "domain": {"type": ["string", "null"]},
        "next_age": {"type": ["integer", "null"]},  # declared
    }
    assert schema["schema"]["required"] == []  # id and secret are gone
    assert ITEMS_SCHEMA in received  # unmapped streams pass byte for byte
    assert {m["stream"] for m in received if m["type"] == "RECORD"} == {"people", "items"}


def test_dropped_key_property_fails_the_run(canned_job, dativo):
    job, _ = canned_job({"users": {"id": None}})
    result = dativo("run", job)
    assert result.returncode == 1
    assert "stream_maps.users: drops the key property 'id'" in result.stderr


def test_failing_expression_names_stream_property_and_line(canned_job, dativo):
    stream = canned_stream().replace('"age":30', '"age":"thirty"')
    job, _ = canned_job({"users": {"older": {"expression": "age + 1", "type": "integer"}}}, stream)
    result = dativo("run", job)
    assert result.returncode == 1
    assert "stream_maps.users.older: on line 7 of the source's output:" in result.stderr
    assert "'age + 1' failed: TypeError" in result.stderr


def test_bad_maps_are_exit_2_before_anything_starts(canned_job, dativo, tmp_path):
    maps = {
        "users": {
            "h": "__import__('os').system('touch pwned')",
            "x": "email.__class__",
            "y": "open('f')",
            "z": 42,
            "__alias__": "",
            "__bogus__": True,
        },
        "items": "drop",
    }
    job, out = canned_job(maps)
    result = dativo("run", job)
    assert result.returncode == 2, result.stderr
    for where in (
        "stream_maps.users.h: cannot call \"__import__('os').system\"",
        "stream_maps.users.x: not allowed in a stream map expression: 'email.__class__'",
        "stream_maps.users.y: cannot call 'open'",
        "stream_maps.users.z: expected an expression (a string), got 42",
        "stream_maps.users.__alias__: expected a stream name",
        "stream_maps.users.__bogus__: unknown option",
        "stream_maps.items: expected a mapping of properties, or null to drop it",
    ):
        assert where in result.stderr
    assert not out.exists() and not (tmp_path / "pwned").exists()


def test_tap_csv_to_target_jsonl(tmp_path, connector_exe, dativo):
    data = tmp_path / "people.csv"
    data.write_text("id,name,email,score\n1,Ann,ann@a.io,3\n2,Bob,bob@b.io,9\n3,Cy,cy@c.io,7\n")
    out = tmp_path / "out"
    source = {
        "connector": "tap-csv",
        "config": {"files": [{"entity": "people", "path": str(data), "keys": ["id"]}]},
    }
    target = {"connector": "target-jsonl", "config": {"destination_path": str(out)}}
    maps = {
        "people": {
            "__filter__": "score > 5",
            "full_name": "name",
            "name": None,
            "email": "md5(email)",
            "__alias__": "contacts",
        }
    }
    job = write_job(tmp_path, source, target, stream_maps=maps)
    result = dativo("run", job, timeout=120)
    assert result.returncode == 0, result.stderr
    assert read_stream(out, "contacts") == [
        {"id": 2, "email": hashlib.md5(b"bob@b.io").hexdigest(), "score": 9, "full_name": "Bob"},
        {"id": 3, "email": hashlib.md5(b"cy@c.io").hexdigest(), "score": 7, "full_name": "Cy"},
    ]


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os')",
        "(lambda: 1)()",
        "[x for x in record]",
        "record.__class__",
        "email.format(1)",
        "2 ** 1000000",
        "getattr(record, 'x')",
        "x := 1",
    ],
)
def test_outside_the_whitelist_is_refused(text):
    with pytest.raises(ExpressionError):
        compile_expression(text)


def test_whitelisted_expressions():
    record = {"a": 3, "s": " Hi ", "t": [1, 2, 3]}
    cases = {
        "a * 2 + 1": 7,
        "s.strip().lower()": "hi",
        "t[1:]": [2, 3],
        "'big' if a > 2 else 'small'": "big",
        "a in (1, 3) and not s == ''": True,
        "1 < a <= 3": True,
        "record['a'] - _['a']": 0,
        "max(a, 10)": 10,
        "self": "current",
    }
    for text, expected in cases.items():
        assert compile_expression(text)(record, "current") == expected, text


SDK_MAPS = {  # what the Singer SDK's mapper also accepts (it has no declared types)
    "users": {
        "__alias__": "people",
        "__filter__": "age >= 20",
        "mail": "email",
        "email": None,
        "secret": None,
        "email_hash": "md5(email)",
        "domain": "email.split('@')[-1].upper()",
    }
}


def test_maps_need_a_singer_pair(tmp_path, dativo):
    source = {"executable": str(PROGRAMS / "fake_tap.py"), "config": {"records": 3}}
    target = {
        "executable": str(PROGRAMS / "fake_airbyte_destination.py"),
        "protocol": "airbyte",
        "config": {"destination_path": str(tmp_path / "out")},
    }
    job = write_job(tmp_path, source, target, stream_maps={"items": {"id": None}})
    result = dativo("run", job)
    assert result.returncode == 2
    assert "inline stream maps run between a Singer tap and a Singer target" in result.stderr
    assert not (tmp_path / "out").exists()
