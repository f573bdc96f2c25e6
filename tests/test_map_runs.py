"""Runs of compact RECORD lines mapped in one pass (``protocol/map_runs.py``) against the
same maps applied message by message (``StreamMap.record``, the path every other line takes),
on a chunk mixing compact records with states, other streams and records the fast path
leaves to that path."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from dativo_ingest.protocol.stream_maps import StreamMapError, StreamMapper, compile_stream_maps

MAPS = {
    "users": {
        "__alias__": "people",
        "__filter__": "age >= 20",
        "user_id": "id",
        "id": None,
        "email_hash": "md5(email)",
        "domain": "email.split('@')[-1].upper()",
        "age": "self + 1",
    },
    "items": {"size": "len(record)", "__else__": None},  # reads the whole record
}


def compact(message: dict[str, Any]) -> bytes:
    return orjson.dumps(message)


def user(i: int) -> dict[str, Any]:
    return {
        "type": "RECORD",
        "stream": "users",
        "record": {"id": i, "email": f"u{i}@x.org", "age": 10 * i},
    }


def chunk() -> list[bytes]:
    schema = {
        "type": "SCHEMA",
        "stream": "users",
        "schema": {"properties": {}},
        "key_properties": [],
    }
    stamped = {**user(7), "time_extracted": "2026-12-05T00:00:00Z", "version": 3}
    odd = {**user(6), "extra": True}  # a key the fast path does not know: line by line
    return [
        compact(schema),
        *(compact(user(i)) for i in range(1, 5)),
        compact({"type": "STATE", "value": {"n": 4}}),
        compact({"type": "RECORD", "stream": "items", "record": {"a": 1, "b": 2}}),
        compact({"type": "RECORD", "stream": "other", "record": {"id": 1}}),
        compact(stamped),
        compact(odd),
        json.dumps(user(8)).encode(),  # not compact
        *(compact(user(i)) for i in (9, 1, 10)),
        compact({**user(11), "record": {**user(11)["record"], "nick": "x"}}),  # one more
        compact({**user(12), "record": dict(reversed(user(12)["record"].items()))}),
        compact({"type": "STATE", "value": {"n": 10}}),
    ]


def expected(lines: list[bytes]) -> list[dict[str, Any]]:
    """Each message mapped on its own by ``StreamMap.record`` (or left as it came)."""
    maps = compile_stream_maps(MAPS)
    out = []
    for number, line in enumerate(lines, 1):
        message = orjson.loads(line)
        stream_map = maps.get(message.get("stream"))
        if stream_map is None or message["type"] == "STATE":
            out.append(message)
        elif message["type"] == "SCHEMA":
            out.append(stream_map.schema(message))
        elif (record := stream_map.record(message["record"], number)) is not None:
            out.append({**message, "stream": stream_map.name, "record": record})
    return out


def test_a_mixed_chunk_maps_as_message_by_message() -> None:
    mapper = StreamMapper(compile_stream_maps(MAPS))
    lines = chunk()
    out = mapper.translate(list(lines))
    assert out.endswith(b"\n")
    assert [orjson.loads(line) for line in out.splitlines()] == expected(lines)
    assert mapper.records == 12 and mapper.filtered == 2  # user 1, twice, is filtered out
    assert mapper.last_state == {"n": 10}


def test_values_no_expression_reads_go_on_as_the_source_wrote_them() -> None:
    mapper = StreamMapper(compile_stream_maps({"s": {"key": "id", "id": None}}))
    line = (
        b'{"type":"RECORD","stream":"s","record":{"id":1,"amount":1.50,'
        b'"big":123456789012345678901234567890,"t":"\\u00e9"}}'
    )
    assert mapper.translate([line]) == (
        b'{"type":"RECORD","stream":"s","record":{"amount":1.50,'
        b'"big":123456789012345678901234567890,"t":"\\u00e9","key":1}}\n'
    )


def test_a_failing_expression_in_a_run_names_its_line() -> None:
    mapper = StreamMapper(compile_stream_maps({"users": {"next": "age + 1"}}))
    lines = [compact(user(1)), compact(user(2))]
    lines[1] = lines[1].replace(b'"age":20', b'"age":"twenty"')
    mapper.translate([compact(user(0))])
    with pytest.raises(StreamMapError, match=r"stream_maps\.users\.next: on line 3 of the source"):
        mapper.translate(lines)


def test_runs_of_records_with_varying_properties_map_as_message_by_message() -> None:
    """Runs whose records do not all hold the first one's properties, run after run (the
    struct made for them misfits, then is left aside for dicts)."""
    mapper = StreamMapper(compile_stream_maps(MAPS))
    for chunk_number in range(6):
        lines = [
            compact({**user(i), "record": {**user(i)["record"], "nick": "n"}} if i % 3 else user(i))
            for i in range(10 * chunk_number + 2, 10 * chunk_number + 12)
        ]
        out = mapper.translate(list(lines))
        assert [orjson.loads(line) for line in out.splitlines()] == expected(lines)
    assert mapper.records == 60


def test_lines_naming_no_mapped_stream_go_on_as_they_came() -> None:
    """Counted once per RECORD line (a nested RECORD marker too), the last STATE kept, in bulk
    or, with a spaced RECORD or an empty line among them (left out), line by line."""
    nested = {"type": "RECORD", "stream": "other", "record": {"x": {"type": "RECORD"}}}
    lines = [
        compact({"type": "RECORD", "stream": "other", "record": {"id": 1}}),
        compact(nested),
        compact({"type": "STATE", "value": {"n": 1}}),
        compact({"type": "RECORD", "stream": "other", "record": {"id": 2}}),
        compact({"type": "STATE", "value": {"n": 2}}),
    ]
    spaced = json.dumps({"type": "RECORD", "stream": "other", "record": {"id": 3}}).encode()
    for sent, kept in (
        (lines, lines),
        ([*lines, spaced], [*lines, spaced]),
        ([*lines[:2], b"", *lines[2:]], lines),
    ):
        mapper = StreamMapper(compile_stream_maps(MAPS))
        assert mapper.translate(list(sent)) == b"\n".join(kept) + b"\n"
        assert mapper.records == sum(b'"RECORD"' in line for line in kept)
        assert mapper.last_state == {"n": 2}
