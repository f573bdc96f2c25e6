#!/usr/bin/env python3
"""A scriptable Singer target for tests. Behaviour comes from its --config file:

echo ("bare" | "message" | "none"; default "bare"): how STATEs are echoed on stdout;
fail_after (int): exit 4 after that many records; exit_early_after (int): exit 0 after that
many records without reading the rest; garbage (bool): print non-JSON lines on stdout;
extra_lines (list): JSON values printed on stdout before the first state;
received (path): every input line is appended there; ignore_sigterm (bool);
linger_seconds (float): sleep that long after the end of the input; print_token (bool): the
config's api_token to stderr when failing; ready_file (path): created once signals are set up;
stop_reading_after (int): after that many records, sleep without reading (a stalled target).
"""

import argparse
import json
import os
import signal
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    args = parser.parse_args()
    with open(args.config) as file:
        config = json.load(file)
    if config.get("ignore_sigterm"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if config.get("ready_file"):
        open(config["ready_file"], "w").close()
    echo = config.get("echo", "bare")
    records = 0
    for extra in config.get("extra_lines", []):
        print(json.dumps(extra), flush=True)
    with open(config.get("received") or os.devnull, "wb") as received:
        for line in sys.stdin.buffer:
            received.write(line)
            message = json.loads(line)
            if message["type"] == "RECORD":
                records += 1
                if config.get("fail_after") is not None and records > config["fail_after"]:
                    if config.get("print_token"):
                        print(f"token is {config['api_token']}", file=sys.stderr)
                    print(f"fake_target: simulated failure at record {records}", file=sys.stderr)
                    return 4
                if records == config.get("stop_reading_after"):
                    time.sleep(3600)
                if (
                    config.get("exit_early_after") is not None
                    and records > config["exit_early_after"]
                ):
                    return 0
            elif message["type"] == "STATE":
                received.flush()
                if config.get("garbage"):
                    print("this is not JSON", flush=True)
                if echo == "bare":
                    print(json.dumps(message["value"]), flush=True)
                elif echo == "message":
                    print(json.dumps(message), flush=True)
    print(f"fake_target: {records} records", file=sys.stderr, flush=True)
    time.sleep(config.get("linger_seconds", 0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
