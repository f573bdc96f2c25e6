#!/usr/bin/env python3
"""A small Airbyte destination for tests, following the protocol: ``spec``, ``check``,
``write --config --catalog``. Records of the configured streams are appended to
``<destination_path>/<stream>.jsonl``; each STATE is echoed on stdout after the records
before it were flushed and fsynced. Config: destination_path; fail_after (int records)."""

import argparse
import json
import os
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["spec", "check", "write"])
    parser.add_argument("--config")
    parser.add_argument("--catalog")
    args = parser.parse_args()
    if args.command != "write":
        print(json.dumps({"type": "SPEC", "spec": {"connectionSpecification": {}}}))
        return 0
    config = json.loads(Path(args.config).read_text())
    catalog = json.loads(Path(args.catalog).read_text())
    configured = {entry["stream"]["name"] for entry in catalog["streams"]}
    folder = Path(config["destination_path"])
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    written = 0
    for line in sys.stdin:
        message = json.loads(line)
        if message["type"] == "RECORD":
            record = message["record"]
            if record["stream"] not in configured:
                print(f"unconfigured stream {record['stream']}", file=sys.stderr)
                return 2
            if record["stream"] not in files:
                files[record["stream"]] = (folder / f"{record['stream']}.jsonl").open("a")
            files[record["stream"]].write(json.dumps(record["data"]) + "\n")
            written += 1
            if config.get("fail_after") is not None and written > config["fail_after"]:
                print("fake destination: simulated failure", file=sys.stderr)
                return 3
        elif message["type"] == "STATE":
            for file in files.values():
                file.flush()
                os.fsync(file.fileno())
            print(json.dumps({"type": "LOG", "log": {"level": "INFO", "message": "committed"}}))
            print(json.dumps(message), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
