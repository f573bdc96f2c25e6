#!/usr/bin/env python3
"""A Singer target for the Docker tests, baked into a test image: it reports what it sees of
its container, then echoes the value of every STATE it reads, as a target does.

On stderr, first one line ``probe: {JSON}`` with argv, uid/gid, cwd, environment names,
NoNewPrivs and CapEff, whether / and /tmp are writable, what its stdin and stdout are (the
targets of /proc/self/fd/0 and 1), what /dativo-stdio holds and whether it is writable, the
config it read, and the outcome of each connection it was asked to open.
Config (``--config FILE``, anywhere in argv):
allocate_mb (int): touch that much memory before reading; burn_cpu_seconds (float);
connect (list of [host, port]): try each with a 3 s timeout; ignore_sigterm (bool);
exit_code (int): exit with it right after the report, reading nothing.
Runs on the base image's Python alone (standard library only).
"""

import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

STDIO = Path("/dativo-stdio")


def writable(folder: str) -> bool:
    path = Path(folder, f"probe-{os.getpid()}")
    try:
        path.write_text("x")
    except OSError:
        return False
    path.unlink()
    return True


def status_fields() -> dict:
    with open("/proc/self/status") as status:
        fields = dict(line.rstrip("\n").split(":\t", 1) for line in status if ":\t" in line)
    return {key: fields.get(key, "").strip() for key in ("NoNewPrivs", "CapEff")}


def connect(host: str, port: int) -> str:
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as exc:
        return f"failed: {exc}"
    return "ok"


def main() -> int:
    argv = sys.argv[1:]
    config: dict = {}
    if "--config" in argv:
        with open(argv[argv.index("--config") + 1]) as file:
            config = json.load(file)
    hold = bytearray()
    if config.get("allocate_mb"):
        hold = bytearray(config["allocate_mb"] << 20)
        for offset in range(0, len(hold), 4096):
            hold[offset] = 1
    started = time.process_time()
    while time.process_time() - started < config.get("burn_cpu_seconds", 0):
        pass
    report = {
        "argv": argv,
        "uid": os.getuid(),
        "gid": os.getgid(),
        "cwd": str(Path.cwd()),
        "env": sorted(os.environ),
        **status_fields(),
        "root_writable": writable("/"),
        "tmp_writable": writable("/tmp"),
        "stdio": [str(Path(f"/proc/self/fd/{fd}").readlink()) for fd in (0, 1)],
        "stdio_folder": sorted(path.name for path in STDIO.iterdir()) if STDIO.is_dir() else None,
        "stdio_writable": writable(str(STDIO)),
        "config": config,
        "connect": {f"{h}:{p}": connect(h, p) for h, p in config.get("connect", [])},
        "held_mb": len(hold) >> 20,
    }
    print("probe: " + json.dumps(report), file=sys.stderr, flush=True)
    if config.get("ignore_sigterm"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if config.get("exit_code") is not None:
        return int(config["exit_code"])
    for line in sys.stdin:
        message = json.loads(line)
        if message.get("type") == "STATE":
            print(json.dumps(message["value"]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
