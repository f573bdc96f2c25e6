#!/usr/bin/env python3
"""A Singer-target-shaped program that counts RECORD lines as fast as it can.

Reads stdin line by line through a 1 MiB buffer. With ``"decode": true`` in its config it
decodes every message with orjson, the least any real target does. Otherwise a line starting
with the compact RECORD prefix is counted without parsing, and only lines that mention "STATE"
or "RECORD" otherwise are parsed.
Each STATE's ``value`` is echoed on stdout as one JSON line, flushed, as a target does after a
commit. At the end it prints ``count_sink: records=N states=M`` on stderr and, when the config
has ``"count_file"``, writes the same figures there as JSON (an orchestrator may keep the
target's stderr to itself).

Usage: count_sink.py --config CONFIG.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import BinaryIO

RECORD_PREFIX = b'{"type":"RECORD"'


def consume(src: BinaryIO, out: BinaryIO) -> tuple[int, int]:
    """Count RECORD lines from ``src``, echo STATE values to ``out``; return both counts."""
    records = states = 0
    for line in src:
        if line.startswith(RECORD_PREFIX):
            records += 1
        elif b'"STATE"' in line or b'"RECORD"' in line:
            message = json.loads(line)
            kind = message.get("type")
            if kind == "RECORD":
                records += 1
            elif kind == "STATE":
                states += 1
                out.write(json.dumps(message["value"], separators=(",", ":")).encode() + b"\n")
                out.flush()
    return records, states


def consume_decoding(src: BinaryIO, out: BinaryIO) -> tuple[int, int]:
    """Like ``consume``, decoding every message with orjson as a target must."""
    import orjson  # only this mode needs it

    records = states = 0
    for line in src:
        message = orjson.loads(line)
        kind = message["type"]
        if kind == "RECORD":
            records += 1
        elif kind == "STATE":
            states += 1
            out.write(orjson.dumps(message["value"]) + b"\n")
            out.flush()
    return records, states


def write_counts(path: Path, records: int, states: int) -> None:
    """Write the counts to ``path`` atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"records": records, "states": states}), encoding="utf-8")
    tmp.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config", required=True, help='JSON file: {"decode": bool, "count_file": F}'
    )
    args = parser.parse_args()
    with open(args.config, encoding="utf-8") as f:
        config = json.load(f)
    with open(0, "rb", buffering=1 << 20, closefd=False) as src:
        count = consume_decoding if config.get("decode") else consume
        records, states = count(src, sys.stdout.buffer)
    if config.get("count_file"):
        write_counts(Path(config["count_file"]), records, states)
    sys.stderr.write(f"count_sink: records={records} states={states}\n")


if __name__ == "__main__":
    main()
