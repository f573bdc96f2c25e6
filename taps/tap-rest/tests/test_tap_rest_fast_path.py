"""The fast record path writes the same messages as singer-sdk's own path."""

from __future__ import annotations

BODY = b"""[
  {"id": 1, "price": 1.50, "big": 12345678901234567890.123456789, "tiny": 1e-7,
   "huge": 1E+400, "nan": NaN, "text": "caf\\u00e9 \\"quoted\\" \\ud83d\\ude00", "flag": true,
   "nested": {"a": [1, 2.0, {"b": null}]}, "extra": "not in the schema"},
  {"id": 2, "price": -0.0, "big": 123456789012345678901234567890, "tiny": null, "text": "",
   "flag": false, "nested": {}}
]"""
SCHEMA = {
    "type": "object",
    "properties": {
        name: {} for name in ("id", "price", "big", "tiny", "huge", "nan", "text", "flag", "nested")
    },
}


def without_times(messages: list[dict]) -> list[dict]:
    return [{k: v for k, v in m.items() if k != "time_extracted"} for m in messages]


def test_fast_path_matches_the_sdk_path(api, run_tap) -> None:
    api.route("/mixed", lambda seen: BODY)
    stream = {"name": "mixed", "path": "/mixed", "primary_keys": ["id"], "schema": SCHEMA}

    fast = run_tap(api.config(stream))
    # an identity stream map sends records through singer-sdk's own path
    sdk = run_tap(api.config(stream, stream_maps={"mixed": {}}))

    assert fast.returncode == 0, fast.stderr
    assert sdk.returncode == 0, sdk.stderr
    assert without_times(fast.messages) == without_times(sdk.messages)
    # every digit as sent; text as UTF-8 (singer-sdk escapes it as ASCII: the same JSON)
    assert fast.stdout.splitlines()[1].startswith(
        '{"type":"RECORD","stream":"mixed","record":{"id":1,"price":1.50,'
        '"big":12345678901234567890.123456789,"tiny":1E-7,"huge":null,"nan":null,'
        '"text":"café \\"quoted\\" 😀"'
    )
