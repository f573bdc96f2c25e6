"""tap-csv benchmark: records/s reading a 1,000,000-row CSV, start-up included.

Each run is ``<tap> --config c.json > /dev/null`` on the same file (generated once into
bench/data/, deterministic: columns id, ts, user, amount, flag, note). Arms, alternated round
by round (the order rotates), figures are medians of wall and CPU time (user + sys of the
tap's process, from wait4):

- ``tap-csv``: ours, fast path, column types inferred (integer, date-time, number, boolean);
- ``tap-csv strings``: ours, fast path, ``infer_rows: 0`` (every column a string, like the peer);
- ``tap-csv sdk path``: ours with an identity stream map, which sends records through the
  Singer SDK's per-record path: what the fast path saves;
- ``tap-csv-folder``: the community peer, ``tap-csv-folder==0.0.1a1`` from PyPI (a Singer SDK
  tap; ``meltanolabs-tap-csv`` is not on PyPI), strings plus its ``_sdc_*`` fields.

Before timing, every arm runs once into a pipe: it must exit 0 and emit every row once as a
RECORD, with a STATE at least every 10,000 records (ours).

Usage: .venv/bin/python bench/tap_csv_bench.py [--rows 1000000] [--rounds 5]
       [--arms tap-csv,strings,sdk,peer] [--results bench/results/tap-csv.md] [--check]
Needs `make setup` (ours linked into .connectors/bin); installs the peer into
.connectors/pypi/tap-csv-folder__0.0.1a1 on first use. Progress goes to stderr, the Markdown
result to stdout and to --results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = REPO / "bench" / "data"
DATA_FORMAT = "v1"  # bump when generate() changes, so cached files are not reused
OURS = REPO / ".connectors" / "bin" / "tap-csv"
PEER_SPEC = "tap-csv-folder==0.0.1a1"
PEER_ENV = REPO / ".connectors" / "pypi" / "tap-csv-folder__0.0.1a1"
TARGET_RECORDS_PER_S = 150_000
STATE_EVERY = 10_000
WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
]


class BenchError(Exception):
    """A run failed or its output is wrong; the message says which and why."""


@dataclass(frozen=True)
class Arm:
    key: str
    name: str
    command: tuple[str, ...]
    checks_states: bool = True


@dataclass
class Timing:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def generate(path: Path, rows: int) -> None:
    """Write the CSV: deterministic, every tenth note quoted (it holds a comma)."""
    rng = random.Random(7)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("w", newline="") as file:
        file.write("id,ts,user,amount,flag,note\n")
        for i in range(1, rows + 1):
            ts = (start + timedelta(seconds=7 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")
            note = " ".join(rng.choices(WORDS, k=rng.randint(2, 6)))
            if i % 10 == 0:
                note = f'"{note}, with a comma"'
            amount = f"{rng.uniform(0, 1000):.2f}"
            flag = "true" if rng.random() < 0.5 else "false"
            file.write(f"{i},{ts},user_{rng.randint(1, 5000)},{amount},{flag},{note}\n")
    partial.rename(path)


def ensure_data(rows: int) -> Path:
    """The CSV, alone in its folder (the peer reads folders); generated on first use."""
    path = DATA_DIR / f"tap-csv-{DATA_FORMAT}-{rows}" / "events.csv"
    if not path.exists():
        log(f"generating {path.relative_to(REPO)} ({rows} rows)")
        generate(path, rows)
    return path


def peer_executable() -> Path:
    from dativo_ingest.install import ConnectorEnv

    return ConnectorEnv(PEER_ENV, (PEER_SPEC,)).ensure().executable("tap-csv-folder")


def arms(data: Path, folder: Path, wanted: list[str]) -> list[Arm]:
    def ours(key: str, name: str, entry: dict | None = None, **settings: object) -> Arm:
        files = [{"entity": "events", "path": str(data), "keys": ["id"], **(entry or {})}]
        config = {"files": files, **settings}
        path = folder / f"{key}.json"
        path.write_text(json.dumps(config))
        return Arm(key, name, (str(OURS), "--config", str(path)))

    found = []
    for key in wanted:
        if key == "tap-csv":
            found.append(ours(key, "tap-csv (fast path, typed)"))
        elif key == "strings":
            found.append(ours(key, "tap-csv (fast path, strings)", entry={"infer_rows": 0}))
        elif key == "sdk":
            alias = {"stream_maps": {"events": {"__alias__": "events"}}}
            found.append(ours(key, "tap-csv (SDK per-record path)", **alias))
        elif key == "peer":
            config = folder / "peer.json"
            settings = {"path": str(data.parent), "read_mode": "one_stream_per_file"}
            config.write_text(json.dumps(settings))
            command = (str(peer_executable()), "--config", str(config))
            found.append(Arm(key, f"{PEER_SPEC} (community)", command, checks_states=False))
        else:
            raise BenchError(f"unknown arm {key!r}")
    return found


def check(arm: Arm, rows: int) -> None:
    """One run into a pipe: exit 0, every row once as a RECORD, STATE cadence."""
    process = subprocess.Popen(arm.command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    records = states = since_state = worst_gap = 0
    tail = b""
    for line in process.stdout:
        if line.startswith(b'{"type":"RECORD"'):
            records += 1
            since_state += 1
        elif line.startswith(b'{"type":"STATE"'):
            states += 1
            worst_gap = max(worst_gap, since_state)
            since_state = 0
        tail = line
    stderr = process.stderr.read().decode(errors="replace")
    if process.wait() != 0:
        raise BenchError(f"{arm.name} exited {process.returncode}:\n{stderr[-2000:]}")
    if records != rows:
        raise BenchError(f"{arm.name} emitted {records} records, not {rows}")
    if arm.checks_states and (worst_gap > STATE_EVERY or not tail.startswith(b'{"type":"STATE"')):
        raise BenchError(f"{arm.name}: {worst_gap} records between two STATEs, or no final STATE")
    log(f"checked {arm.name}: {records} records, {states} STATE messages")


def timed_run(arm: Arm) -> tuple[float, float]:
    """Wall and CPU seconds of one run with stdout to /dev/null."""
    with open(os.devnull, "wb") as sink, tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(arm.command, stdout=sink, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-2000:]
            raise BenchError(f"{arm.name} exited {process.returncode}:\n{tail}")
    return wall, usage.ru_utime + usage.ru_stime


def report(arms: list[Arm], timings: dict[str, Timing], args: argparse.Namespace, load: str) -> str:
    rows = args.rows
    lines = [
        "# tap-csv benchmark",
        "",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Command: "
        f"`.venv/bin/python bench/tap_csv_bench.py --rows {rows} --rounds {args.rounds} "
        f"--arms {','.join(arm.key for arm in arms)}`",
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load} (shared with other work: wall times are noisy, CPU times less).",
        f"Input: {rows:,} rows, columns id, ts, user, amount, flag, note "
        f"({(ensure_data(rows).stat().st_size / 1e6):.0f} MB). Each run: "
        "`<tap> --config c.json > /dev/null`, start-up included; arms alternate, order "
        f"rotating; medians of {args.rounds} runs.",
        "",
        "| arm | wall s (median) | records/s (wall) | CPU s (median) | records/s (CPU) "
        "| wall s (min) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for arm in arms:
        timing = timings[arm.key]
        wall, cpu = statistics.median(timing.wall), statistics.median(timing.cpu)
        lines.append(
            f"| {arm.name} | {wall:.2f} | {rows / wall:,.0f} | {cpu:.2f} | {rows / cpu:,.0f} "
            f"| {min(timing.wall):.2f} |"
        )
    if "tap-csv" in timings:
        rate = rows / statistics.median(timings["tap-csv"].wall)
        verdict = "met" if rate >= TARGET_RECORDS_PER_S else "MISSED"
        lines += ["", f"Target >= {TARGET_RECORDS_PER_S:,} records/s (wall, typed): {verdict}."]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--arms", default="tap-csv,strings,sdk,peer")
    parser.add_argument("--results", type=Path, default=REPO / "bench" / "results" / "tap-csv.md")
    parser.add_argument("--check", action="store_true", help="exit 1 if the target is missed")
    args = parser.parse_args()
    if not OURS.exists():
        raise SystemExit(f"{OURS} is missing: run `make setup` first")
    data = ensure_data(args.rows)
    with tempfile.TemporaryDirectory(prefix="tap-csv-bench-") as folder:
        chosen = arms(data, Path(folder), args.arms.split(","))
        for arm in chosen:
            check(arm, args.rows)
        timings = {arm.key: Timing() for arm in chosen}
        load_before = os.getloadavg()[0]
        for round_no in range(args.rounds):
            shift = round_no % len(chosen)
            for arm in chosen[shift:] + chosen[:shift]:
                wall, cpu = timed_run(arm)
                timings[arm.key].wall.append(wall)
                timings[arm.key].cpu.append(cpu)
                log(f"round {round_no + 1}: {arm.name}: {wall:.2f} s wall, {cpu:.2f} s CPU")
        load = f"{load_before:.1f} -> {os.getloadavg()[0]:.1f}"
    text = report(chosen, timings, args, load)
    args.results.write_text(text)
    sys.stdout.write(text)
    if args.check and "tap-csv" in timings:
        return int(args.rows / statistics.median(timings["tap-csv"].wall) < TARGET_RECORDS_PER_S)
    return 0


if __name__ == "__main__":
    sys.exit(main())
