#!/usr/bin/env python3
"""A scriptable Airbyte source for tests: ``spec``, ``check``, ``discover`` and ``read``.

Config: streams (list of names, default ["items"]), records (per stream, default 5),
trace_error (str: emit a TRACE ERROR with it and exit 1), failure_type (default
"config_error"), control (dict: emit a CONTROL message replacing the config with it),
config_copy (path: the config this run received is written there), state_copy (path: the
--state file is copied there), check_fails (str: `check` reports FAILED with it), until (int:
send ids up to it instead of `records` more), state_every (int: a STATE after every N records).
"""

import argparse
import json
import shutil
import sys
from pathlib import Path


def emit(message: dict) -> None:
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["spec", "check", "discover", "read"])
    parser.add_argument("--config")
    parser.add_argument("--catalog")
    parser.add_argument("--state")
    args = parser.parse_args()
    config = json.loads(Path(args.config).read_text()) if args.config else {}
    streams = config.get("streams", ["items"])
    if args.command == "spec":
        emit({"type": "SPEC", "spec": {"connectionSpecification": {"type": "object"}}})
        return 0
    if args.command == "check":
        failure = config.get("check_fails")
        status = {"status": "FAILED", "message": failure} if failure else {"status": "SUCCEEDED"}
        emit({"type": "CONNECTION_STATUS", "connectionStatus": status})
        return 0
    if args.command == "discover":
        emit(
            {
                "type": "CATALOG",
                "catalog": {
                    "streams": [
                        {
                            "name": name,
                            "json_schema": {
                                "type": "object",
                                "properties": {
                                    "id": {"type": "integer"},
                                    "stream": {"type": "string"},
                                },
                            },
                            "supported_sync_modes": ["full_refresh", "incremental"],
                            "source_defined_cursor": True,
                            "default_cursor_field": ["id"],
                            "source_defined_primary_key": [["id"]],
                        }
                        for name in streams
                    ]
                },
            }
        )
        return 0
    if config.get("config_copy"):
        Path(config["config_copy"]).write_text(json.dumps(config))
    if config.get("state_copy"):
        if args.state:
            shutil.copyfile(args.state, config["state_copy"])
        else:
            Path(config["state_copy"]).write_text("")
    state = {}
    if args.state:
        for message in json.loads(Path(args.state).read_text()):
            stream = message["stream"]
            state[stream["stream_descriptor"]["name"]] = stream["stream_state"]["last_id"]
    catalog = json.loads(Path(args.catalog).read_text())
    emit({"type": "LOG", "log": {"level": "INFO", "message": "fake source starting"}})
    if config.get("control"):
        emit(
            {
                "type": "CONTROL",
                "control": {
                    "type": "CONNECTOR_CONFIG",
                    "emitted_at": 1,
                    "connectorConfig": {"config": config["control"]},
                },
            }
        )
    for entry in catalog["streams"]:
        name = entry["stream"]["name"]
        start = state.get(name, 0)
        end = config.get("until", start + config.get("records", 5))
        since = 0  # records since the last STATE
        for i in range(start + 1, end + 1):
            since += 1
            emit(
                {
                    "type": "RECORD",
                    "record": {
                        "stream": name,
                        "data": {"id": i, "stream": name},
                        "emitted_at": 1700000000000,
                    },
                }
            )
            if config.get("state_every") and i % config["state_every"] == 0:
                emit_state(name, i, since)
                since = 0
        if config.get("trace_error"):
            emit(
                {
                    "type": "TRACE",
                    "trace": {
                        "type": "ERROR",
                        "emitted_at": 1,
                        "error": {
                            "message": config["trace_error"],
                            "failure_type": config.get("failure_type", "config_error"),
                        },
                    },
                }
            )
            return 1
        emit_state(name, end, since)
    return 0


def emit_state(stream: str, last_id: int, count: int) -> None:
    emit(
        {
            "type": "STATE",
            "state": {
                "type": "STREAM",
                "stream": {
                    "stream_descriptor": {"name": stream},
                    "stream_state": {"last_id": last_id},
                },
                "sourceStats": {"recordCount": float(count)},
            },
        }
    )


if __name__ == "__main__":
    sys.exit(main())
