"""Airbyte <-> Singer translation: the fast path for the CDK's layout equals a full decode."""

from __future__ import annotations

import orjson

from dativo_ingest.protocol.airbyte import AirbyteState
from dativo_ingest.protocol.translate import AirbyteEvents, AirbyteToSinger, SingerToAirbyte

CATALOG = {
    "streams": [
        {"stream": {"name": "users", "json_schema": {"type": "object"}}, "primary_key": [["id"]]}
    ]
}


def to_singer(lines: list[bytes]) -> list[dict]:
    translator = AirbyteToSinger(CATALOG, AirbyteState(), AirbyteEvents("src"))
    out = translator.translate(lines)
    return [orjson.loads(line) for line in out.splitlines()]


def test_canonical_and_other_layouts_translate_alike():
    data = {"id": 1, "name": 'quote " and \\ backslash', "nested": {"emitted_at": 5}}
    canonical = orjson.dumps(
        {"type": "RECORD", "record": {"stream": "users", "data": data, "emitted_at": 1700000000000}}
    )
    reordered = orjson.dumps(
        {
            "record": {"emitted_at": 1, "data": data, "stream": "users", "namespace": "public"},
            "type": "RECORD",
        }
    )
    spaced = canonical.replace(b'"data":', b'"data": ')
    expected = {"type": "RECORD", "stream": "users", "record": data}
    assert to_singer([canonical, reordered, spaced]) == [expected] * 3


def test_schema_preamble_state_and_counts():
    translator = AirbyteToSinger(
        CATALOG,
        AirbyteState(
            {
                "airbyte": {
                    "streams": {
                        "orders": {
                            "stream_descriptor": {"name": "orders"},
                            "stream_state": {"c": 1},
                        }
                    }
                }
            }
        ),
        AirbyteEvents("src"),
    )
    assert orjson.loads(translator.preamble()) == {
        "type": "SCHEMA",
        "stream": "users",
        "schema": {"type": "object"},
        "key_properties": ["id"],
    }
    record = orjson.dumps(
        {"type": "RECORD", "record": {"stream": "users", "data": {"id": 2}, "emitted_at": 3}}
    )
    state = orjson.dumps(
        {
            "type": "STATE",
            "state": {
                "type": "STREAM",
                "stream": {"stream_descriptor": {"name": "users"}, "stream_state": {"c": 9}},
            },
        }
    )
    out = [orjson.loads(x) for x in translator.translate([record, record, state]).splitlines()]
    assert out[-1]["value"]["airbyte"]["streams"].keys() == {"orders", "users"}
    assert translator.records == 2 and translator.per_stream == {"users": 2}


def test_singer_to_airbyte_records_and_legacy_state():
    translator = SingerToAirbyte()
    lines = [
        orjson.dumps({"type": "SCHEMA", "stream": "s", "schema": {}, "key_properties": []}),
        orjson.dumps({"type": "RECORD", "stream": "s", "record": {"a": 1}}),
        orjson.dumps({"type": "STATE", "value": {"bookmarks": {"s": 1}}}),
    ]
    out = [orjson.loads(x) for x in translator.translate(lines).splitlines()]
    assert out[0]["record"]["data"] == {"a": 1} and out[0]["record"]["stream"] == "s"
    assert out[1] == {"type": "STATE", "state": {"type": "LEGACY", "data": {"bookmarks": {"s": 1}}}}
