#!/usr/bin/env python3
"""Write a deterministic synthetic Singer stream for the relay benchmark.

One SCHEMA for stream ``events`` (key ``id``), ``--records`` RECORD lines in compact JSON, a
STATE every 10,000 records and one at the end. The same N always gives the same bytes. Lines
average about 245 bytes, so 2,000,000 records make about 490 MB.

Records are rendered with string formatting, not ``json.dumps``: every value is built from
characters that need no JSON escaping.

Usage: gen_stream.py --records N --out FILE
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import date, timedelta
from pathlib import Path

STREAM = "events"
STATE_EVERY = 10_000
PAYLOAD_MEAN = 89  # payload length varies in [PAYLOAD_MEAN - 20, PAYLOAD_MEAN + 20]
START_DAY = date(2024, 1, 1)

SCHEMA = {
    "type": "SCHEMA",
    "stream": STREAM,
    "key_properties": ["id"],
    "bookmark_properties": ["id"],
    "schema": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "ts": {"type": "string", "format": "date-time"},
            "user": {"type": "string"},
            "amount": {"type": "number"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "payload": {"type": "string"},
        },
    },
}
TAGS = (
    '["web"]',
    '["web","mobile"]',
    "[]",
    '["api","batch","retry"]',
    '["mobile"]',
    '["web","promo"]',
    '["api"]',
)
LOREM = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt "
    "ut labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco "
    "laboris nisi aliquip ex ea commodo consequat duis aute irure in reprehenderit voluptate "
    "velit esse cillum fugiat nulla pariatur excepteur sint occaecat cupidatat non proident "
)
WORDS = LOREM.split()
TEXT = " ".join(WORDS[(i * 7) % len(WORDS)] for i in range(1200))


def state_line(last_id: int) -> str:
    """Render the STATE message whose bookmark is the id of the last record written."""
    bookmark = {"replication_key": "id", "replication_key_value": last_id}
    value = {"bookmarks": {STREAM: bookmark}}
    return json.dumps({"type": "STATE", "value": value}, separators=(",", ":")) + "\n"


def record_lines(first: int, last: int) -> str:
    """Render RECORD lines for ids ``first`` to ``last`` inclusive."""
    out = []
    append = out.append
    day_text = ""
    day_index = -1
    for i in range(first, last + 1):
        day, seconds = divmod(i, 86_400)
        if day != day_index:
            day_index = day
            day_text = (START_DAY + timedelta(days=day)).isoformat()
        hour, seconds = divmod(seconds, 3_600)
        minute, second = divmod(seconds, 60)
        cents = (i * 7_919) % 1_000_000
        start = (i * 131) % 4_000
        payload = TEXT[start : start + PAYLOAD_MEAN - 20 + i % 41]
        append(
            f'{{"type":"RECORD","stream":"{STREAM}","record":{{"id":{i},'
            f'"ts":"{day_text}T{hour:02d}:{minute:02d}:{second:02d}Z",'
            f'"user":"user_{(i * 31) % 10_007}","amount":{cents // 100}.{cents % 100:02d},'
            f'"tags":{TAGS[i % len(TAGS)]},"payload":"{payload}"}}}}\n'
        )
    return "".join(out)


def write_stream(records: int, out: Path) -> None:
    """Write the stream to a temporary file beside ``out``, then move it into place."""
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="ascii", buffering=1 << 20) as f:
            f.write(json.dumps(SCHEMA, separators=(",", ":")) + "\n")
            for first in range(1, records + 1, STATE_EVERY):
                last = min(first + STATE_EVERY - 1, records)
                f.write(record_lines(first, last))
                f.write(state_line(last))
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, required=True, help="number of RECORD lines")
    parser.add_argument("--out", type=Path, required=True, help="file to write")
    args = parser.parse_args()
    if args.records < 0:
        parser.error("--records must be >= 0")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_stream(args.records, args.out)


if __name__ == "__main__":
    main()
