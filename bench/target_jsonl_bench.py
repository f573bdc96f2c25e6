"""target-jsonl benchmark: ours against the community target-jsonl 0.1.4 from PyPI.

Both read the same cached Singer stream (bench/programs/gen_stream.py: stream ``events``, a
STATE every 10,000 records) as ``target-jsonl --config c.json < stream``, alternating arm order
round by round; figures are medians. Every run must exit 0, write every record exactly once
(the output files are read back) and echo the stream's final state as its last stdout line.
Start-up is measured too: ``--about`` (ours; the peer has none) and an empty stream (both).
Extra arms (ours only, reported, not compared): gzip, and validate_records with
add_record_metadata.

Usage: .venv/bin/python bench/target_jsonl_bench.py [--records 100000] [--rounds 5]
       [--startup-rounds 10] [--check]
Needs `make setup` (ours linked into .connectors/bin); installs the peer into
.connectors/pypi/target-jsonl__0.1.4 on first use. Progress goes to stderr, the Markdown
result to stdout.
"""

from __future__ import annotations

import argparse
import gzip
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson

from dativo_ingest.install import ConnectorEnv

REPO = Path(__file__).resolve().parents[1]
GENERATOR = REPO / "bench" / "programs" / "gen_stream.py"
DATA_DIR = REPO / "bench" / "data"
DATA_FORMAT = "v1"  # the same cache files as bench/relay_bench.py
OURS = REPO / ".connectors" / "bin" / "target-jsonl"
PEER_SPEC = "target-jsonl==0.1.4"
PEER_ENV = REPO / ".connectors" / "pypi" / "target-jsonl__0.1.4"
SPEEDUP_TARGET = 30.0
CHECKED_SETTINGS = {"validate_records": True, "add_record_metadata": True}


class BenchError(Exception):
    """A run failed or its output is wrong; the message says which and why."""


@dataclass(frozen=True)
class Arm:
    name: str
    executable: Path
    settings: dict[str, object] = field(default_factory=dict)


@dataclass
class Timing:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, wall: float, cpu: float) -> None:
        self.wall.append(wall)
        self.cpu.append(cpu)


def ensure_data(records: int) -> Path:
    """Generate the stream once; later runs reuse the cached file."""
    path = DATA_DIR / f"events-{DATA_FORMAT}-{records}.singer"
    if not path.exists():
        print(f"generating {path.name}", file=sys.stderr)
        subprocess.run(
            [sys.executable, str(GENERATOR), "--records", str(records), "--out", str(path)],
            check=True,
        )
    return path


def final_state(data: Path) -> object:
    """The value of the stream's last STATE message."""
    with data.open("rb") as file:
        file.seek(max(0, data.stat().st_size - 4096))
        last = file.read().splitlines()[-1]
    return orjson.loads(last)["value"]


def timed(command: list[str], stdin: Path) -> tuple[float, float, bytes]:
    """Run ``command < stdin``; return wall seconds, CPU seconds (user + system) and stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with stdin.open("rb") as source:
        result = subprocess.run(command, stdin=source, capture_output=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode != 0:
        tail = result.stderr.decode(errors="replace")[-2000:]
        raise BenchError(f"{' '.join(command)} exited {result.returncode}:\n{tail}")
    return wall, cpu, result.stdout


def run_once(arm: Arm, stdin: Path, work: Path) -> tuple[float, float, bytes, Path]:
    """Run one arm to the end into a fresh folder; return wall s, CPU s, stdout, folder."""
    out = Path(tempfile.mkdtemp(prefix=f"{arm.name}-", dir=work))
    config = out.with_suffix(".json")
    config.write_bytes(orjson.dumps({"destination_path": str(out), **arm.settings}))
    wall, cpu, stdout = timed([str(arm.executable), "--config", str(config)], stdin)
    return wall, cpu, stdout, out


def verify(arm: Arm, out: Path, stdout: bytes, records: int, state: object) -> None:
    """Every record exactly once in the output files; the final state echoed last."""
    ids: set[int] = set()
    lines = 0
    for path in sorted(out.iterdir()):
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = gzip.decompress(data)
        for line in data.splitlines():
            ids.add(orjson.loads(line)["id"])
            lines += 1
    if lines != records or ids != set(range(1, records + 1)):
        raise BenchError(f"{arm.name}: {lines} lines, {len(ids)} distinct ids, want {records}")
    echoed = stdout.splitlines()
    if not echoed or orjson.loads(echoed[-1]) != state:
        raise BenchError(f"{arm.name}: last stdout line {echoed[-1:]!r} is not the final state")


def measure(
    arms: list[Arm], stdin: Path, rounds: int, work: Path, check: tuple[int, object] | None
) -> dict[str, Timing]:
    """Alternate the arms' order round by round (one uncounted warm-up round first)."""
    timings = {arm.name: Timing() for arm in arms}
    for round_number in range(-1, rounds):
        order = arms if round_number % 2 == 0 else arms[::-1]
        for arm in order:
            wall, cpu, stdout, out = run_once(arm, stdin, work)
            if check is not None:
                verify(arm, out, stdout, *check)
            if round_number >= 0:
                timings[arm.name].add(wall, cpu)
            label = "warm-up" if round_number < 0 else f"round {round_number + 1}/{rounds}"
            print(f"  {label} {arm.name}: {wall:.3f} s wall, {cpu:.3f} s CPU", file=sys.stderr)
    return timings


def row(name: str, timing: Timing, base: Timing | None = None) -> str:
    wall = statistics.median(timing.wall)
    ratio = f"{statistics.median(base.wall) / wall:.1f}x" if base else ""
    every = ", ".join(f"{value:.3f}" for value in timing.wall)
    return f"| {name} | {wall:.3f} | {statistics.median(timing.cpu):.3f} | {ratio} | {every} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--startup-rounds", type=int, default=10)
    parser.add_argument(
        "--check", action="store_true", help=f"exit 1 unless ours is {SPEEDUP_TARGET:.0f}x faster"
    )
    args = parser.parse_args()
    if not OURS.exists():
        raise SystemExit(f"{OURS} is missing: run `make setup` first")
    peer = ConnectorEnv(PEER_ENV, (PEER_SPEC,)).ensure().executable("target-jsonl")
    data = ensure_data(args.records)
    expected = (args.records, final_state(data))
    ours, theirs = Arm("ours", OURS), Arm("peer", peer)
    extras = [
        Arm("ours-gzip", OURS, {"compression": "gzip"}),
        Arm("ours-validate-metadata", OURS, CHECKED_SETTINGS),
    ]
    with tempfile.TemporaryDirectory(prefix="target-jsonl-bench-") as work_dir:
        work = Path(work_dir)
        print(f"load: {args.records} records, {args.rounds} rounds", file=sys.stderr)
        load = measure([ours, theirs], data, args.rounds, work, expected)
        print("extra arms (ours only)", file=sys.stderr)
        extra = measure(extras, data, args.rounds, work, expected)
        empty = work / "empty.singer"
        empty.write_bytes(b"")
        print("start-up: empty stream", file=sys.stderr)
        startup = measure([ours, theirs], empty, args.startup_rounds, work, None)
        print("start-up: --about", file=sys.stderr)
        about = Timing()
        for _ in range(args.startup_rounds):
            wall, cpu, _stdout = timed([str(OURS), "--about"], empty)
            about.add(wall, cpu)

    speedup = statistics.median(load["peer"].wall) / statistics.median(load["ours"].wall)
    cpu_ratio = statistics.median(load["peer"].cpu) / statistics.median(load["ours"].cpu)
    size_mb = data.stat().st_size / 1e6
    header = "| arm | median wall s | median CPU s | peer / arm | every wall s |"
    lines = [
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Machine: {platform.machine()}, "
        f"Python {platform.python_version()}, 2 shared cores (expect noise).",
        "",
        f"Input: `{data.relative_to(REPO)}` ({args.records} records, {size_mb:.1f} MB, a STATE "
        f"every 10,000). Every run checked: all {args.records} ids exactly once in the files, "
        "final state echoed last.",
        "",
        f"### Load ({args.rounds} alternating rounds after a warm-up)",
        "",
        header,
        "| --- | --- | --- | --- | --- |",
        row("ours (target-jsonl, this repo)", load["ours"], load["peer"]),
        row(f"peer ({PEER_SPEC})", load["peer"], load["peer"]),
        row("ours, compression gzip", extra["ours-gzip"], load["peer"]),
        row(
            "ours, validate_records + add_record_metadata",
            extra["ours-validate-metadata"],
            load["peer"],
        ),
        "",
        f"Speed-up, ours vs peer: **{speedup:.1f}x** (target {SPEEDUP_TARGET:.0f}x: "
        f"{'met' if speedup >= SPEEDUP_TARGET else 'MISSED'}); CPU time ratio {cpu_ratio:.1f}x.",
        "",
        f"### Start-up ({args.startup_rounds} rounds)",
        "",
        header,
        "| --- | --- | --- | --- | --- |",
        row("ours, empty stream", startup["ours"], startup["peer"]),
        row("peer, empty stream", startup["peer"], startup["peer"]),
        row("ours, `--about`", about),
    ]
    print("\n".join(lines))
    return 1 if args.check and speedup < SPEEDUP_TARGET else 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except BenchError as exc:
        print(f"target_jsonl_bench: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
