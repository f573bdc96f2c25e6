#!/usr/bin/env python3
"""A tap that writes a canned stream: the bytes of the file its config's ``stream_file``
names, exactly as they are (malformed lines included), then exits 0."""

import argparse
import json
import shutil
import sys


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--state")
    parser.add_argument("--catalog")
    args = parser.parse_args()
    with open(args.config) as file:
        config = json.load(file)
    with open(config["stream_file"], "rb") as stream:
        shutil.copyfileobj(stream, sys.stdout.buffer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
