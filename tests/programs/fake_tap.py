#!/usr/bin/env python3
"""A scriptable Singer tap for tests. Behaviour comes from its --config file:

records (int), stream (str), state_every (int), fail_after (int), partial_line_on_fail (bool),
big_record_bytes (int), sleep_after (int: records before sleeping), sleep_seconds (float),
final_state (any JSON: overrides the last STATE's value), state_copy (path: the --state file
is copied there), print_password (bool: config's password to stderr), spaced (bool: `"type": "X"`),
fail_exit_code (int, default 3: the exit code of fail_after), fail_message (str: its stderr line),
fail_runs ([counter path, n]: fail_after applies only to the first n runs counted in that file),
stderr_lines (list of str: written to stderr before the first message),
until (int: send ids up to it, instead of `records` more), big_record_runs ([counter path, n]:
big_record_bytes applies only to the first n runs counted in that file).
"""

import argparse
import json
import shutil
import sys
import time


def first_runs(counter: str, times: int) -> bool:
    """Count this run in the file ``counter``; True while it is one of the first ``times``."""
    with open(counter, "a+") as file:
        file.seek(0)
        runs = len(file.read())
        file.write("x")
    return runs < times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--state")
    parser.add_argument("--catalog")
    args = parser.parse_args()
    with open(args.config) as file:
        config = json.load(file)
    if config.get("state_copy"):
        if args.state:
            shutil.copyfile(args.state, config["state_copy"])
        else:
            open(config["state_copy"], "w").close()
    for line in config.get("stderr_lines", []):
        print(line, file=sys.stderr, flush=True)
    if config.get("print_password"):
        print(f"connecting with password {config['password']}", file=sys.stderr, flush=True)

    separators = (", ", ": ") if config.get("spaced") else (",", ":")
    out = sys.stdout

    def emit(message: dict) -> None:
        out.write(json.dumps(message, separators=separators) + "\n")

    stream = config.get("stream", "items")
    start = 0
    if args.state:
        with open(args.state) as file:
            start = json.load(file).get("bookmarks", {}).get(stream, {}).get("last_id", 0)
    emit(
        {
            "type": "SCHEMA",
            "stream": stream,
            "key_properties": ["id"],
            "schema": {"type": "object", "properties": {"id": {"type": "integer"}}},
        }
    )
    total = config["until"] - start if "until" in config else config.get("records", 10)
    fail_after = config.get("fail_after")
    if config.get("fail_runs") and not first_runs(*config["fail_runs"]):
        fail_after = None
    big_record_bytes = config.get("big_record_bytes")
    if config.get("big_record_runs") and not first_runs(*config["big_record_runs"]):
        big_record_bytes = None
    state_every = config.get("state_every", 0)
    for i in range(start + 1, start + total + 1):
        if fail_after is not None and i - start > fail_after:
            if config.get("partial_line_on_fail"):
                out.write('{"type":"RECORD","stream":"' + stream + '","record":{"id"')
            out.flush()
            print(f"fake_tap: simulated failure after {i - start - 1} records", file=sys.stderr)
            if config.get("fail_message"):
                print(config["fail_message"], file=sys.stderr)
            return config.get("fail_exit_code", 3)
        record = {"id": i}
        if big_record_bytes and i == start + 1:
            record["payload"] = "x" * big_record_bytes
        emit({"type": "RECORD", "stream": stream, "record": record})
        if state_every and (i - start) % state_every == 0:
            emit({"type": "STATE", "value": {"bookmarks": {stream: {"last_id": i}}}})
        if config.get("sleep_after") == i - start:
            out.flush()
            time.sleep(config.get("sleep_seconds", 60))
    final = {"bookmarks": {stream: {"last_id": start + total}}}
    emit({"type": "STATE", "value": config.get("final_state", final)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
