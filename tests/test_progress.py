"""Live progress: a table redrawn on a terminal, periodic log lines without one."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import subprocess

from tests.conftest import DATIVO

# 60,000 records with a pause after the first 20,000: the run lasts a few seconds
STREAM = {"records": 60_000, "sleep_after": 20_000, "sleep_seconds": 1.2}
TABLE_ROW = re.compile(rb"all streams\x1b\[0m +([\d,]+) +([\d,]+) +([\d.]+ [KMG]?B) +([\d.]+)s")


def test_a_terminal_shows_a_live_table_that_moves(write_job, env):
    job = write_job(source=STREAM)
    controller, terminal = pty.openpty()
    run = subprocess.Popen([DATIVO, "run", str(job)], env={**env, "TERM": "xterm"}, stderr=terminal)
    os.close(terminal)
    shown = bytearray()
    with contextlib.suppress(OSError):  # EIO once dativo exits and the terminal closes
        while chunk := os.read(controller, 65536):
            shown += chunk
    os.close(controller)
    assert run.wait(timeout=30) == 0, shown.decode(errors="replace")
    frames = [(int(m[1].replace(b",", b"")), float(m[4])) for m in TABLE_ROW.finditer(shown)]
    records = [count for count, _ in frames]
    assert len(frames) >= 3 and records == sorted(records), frames
    assert records[0] < records[-1] == 60_000  # the figures move while the run goes on
    assert frames[-1][1] > frames[0][1]
    assert b"succeeded in" in shown
    assert b"progress:" not in shown  # the periodic lines go to the run log only


def test_without_a_terminal_a_progress_line_is_logged_every_few_seconds(write_job, dativo):
    job = write_job(source={"records": 3000, "sleep_after": 1000, "sleep_seconds": 1.0})
    result = dativo("run", job, "--progress-seconds", "0.3")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "INFO    progress: " in line]
    assert len(lines) >= 3, result.stderr
    counts = [
        int(re.search(r"progress: ([\d,]+) records", line)[1].replace(",", "")) for line in lines
    ]
    assert counts == sorted(counts) and counts[-1] >= 1000
    assert "rec/s" not in result.stderr and "\x1b[" not in result.stderr

    as_json = dativo(
        "--log-format", "json", "run", job, "--full-refresh", "--progress-seconds", "0.3"
    )
    progress = [
        entry["progress"]
        for entry in map(json.loads, as_json.stderr.splitlines())
        if "progress" in entry
    ]
    assert progress and set(progress[0]) == {
        "records",
        "records_per_s",
        "bytes",
        "elapsed_s",
        "states_confirmed",
        "streams",
    }
