#!/usr/bin/env python3
"""A Singer-tap-shaped program that replays a recorded stream as fast as it can.

Config: ``{"path": "FILE", "mode": "messages" | "chunks"}``. ``messages`` (the default) writes
FILE's lines one by one through a buffered stdout, as a Singer tap emits its messages;
``chunks`` copies FILE in 1 MiB blocks, faster than any real tap. ``--state`` and ``--catalog``
are accepted and ignored, so any orchestrator can start it like a real tap.

Usage: replay_tap.py --config CONFIG.json [--state STATE.json] [--catalog CATALOG.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

CHUNK = 1 << 20


def replay_messages(path: str) -> None:
    """Write the file's lines one by one, as a tap writes its messages."""
    out = sys.stdout.buffer
    with open(path, "rb", buffering=CHUNK) as src:
        for line in src:
            out.write(line)
    out.flush()


def replay_chunks(path: str, out_fd: int) -> None:
    """Copy the file at ``path`` to ``out_fd`` with large reads and complete writes."""
    with open(path, "rb", buffering=0) as src:
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        while n := src.readinto(buf):
            sent = 0
            while sent < n:
                sent += os.write(out_fd, view[sent:n])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help='JSON file: {"path": "FILE", "mode": M}')
    parser.add_argument("--state", help="ignored")
    parser.add_argument("--catalog", help="ignored")
    parser.add_argument("--properties", help="ignored")
    args = parser.parse_args()
    with open(args.config, encoding="utf-8") as f:
        config = json.load(f)
    try:
        if config.get("mode", "messages") == "chunks":
            replay_chunks(config["path"], sys.stdout.fileno())
        else:
            replay_messages(config["path"])
    except BrokenPipeError:
        # The reader went away; say so and exit non-zero like a killed pipe writer would.
        sys.stderr.write("replay_tap: stdout closed by the reader\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
