#!/usr/bin/env python3
"""A scriptable Singer mapper for tests: copies its input to its output line by line.
From its --config file: fail_after
(int): exit 5 after that many records; exit_early_after (int): exit 0 after that many records
without reading the rest; stop_reading_after (int): after that many records, sleep without
reading (a stalled mapper); hang_at_end (bool): once its input ends, sleep instead of
exiting; ready_file (path): created once it runs."""

import argparse
import json
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    args = parser.parse_args()
    with open(args.config) as file:
        config = json.load(file)
    if config.get("ready_file"):
        open(config["ready_file"], "w").close()
    records = 0
    for line in sys.stdin.buffer:
        message = json.loads(line)
        if message["type"] == "RECORD":
            records += 1
            if records == config.get("fail_after"):
                print(f"fake_mapper: cannot map record {records}", file=sys.stderr, flush=True)
                return 5
            if records == config.get("exit_early_after"):
                return 0
            if records == config.get("stop_reading_after"):
                time.sleep(3600)
        sys.stdout.buffer.write(line)
        sys.stdout.flush()
    if config.get("hang_at_end"):
        time.sleep(3600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
