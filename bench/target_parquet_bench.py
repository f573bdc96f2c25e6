"""target-parquet benchmark: ours against the Singer SDK file target meltanolabs-target-csv.

Both read the same cached Singer stream (bench/programs/gen_stream.py: stream ``events``, 300,000
records by default, a STATE every 10,000) as ``target --config c.json < stream``, with default
settings (the peer's include the SDK's ``validate_records: true``). Rounds alternate the arms'
order; the peer is slow (about a minute a run here), so it runs fewer rounds than ours. Figures
are medians; CPU is user + system of the target process, peak RSS its ``ru_maxrss``.

Every run is checked. Ours: the Parquet files are read back with pyarrow and compared row for
row with what gen_stream.py generated (count, distinct ids, ``ts`` typed timestamp[us, UTC] and
equal to the generated instant, user, amount, tags and payload lengths). The peer: its CSV file
is read back with pyarrow (row count, distinct ids). Both must echo the final state last.
Start-up is measured too: ``--about`` and an empty stream.

Usage: .venv/bin/python bench/target_parquet_bench.py [--records 300000] [--rounds 7]
       [--peer-rounds 3] [--startup-rounds 10] [--out bench/results/target-parquet.md] [--check]
Needs `make setup` (ours linked into .connectors/bin); installs the peer into
.connectors/pypi/meltanolabs-target-csv__0.5.0 on first use. Progress goes to stderr; the
Markdown result to stdout and to --out.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from dativo_ingest.install import ConnectorEnv

REPO = Path(__file__).resolve().parents[1]
GENERATOR = REPO / "bench" / "programs" / "gen_stream.py"
DATA_DIR = REPO / "bench" / "data"
DATA_FORMAT = "v1"  # the same cache files as bench/relay_bench.py
OURS = REPO / ".connectors" / "bin" / "target-parquet"
PEER_SPEC = "meltanolabs-target-csv==0.5.0"
PEER_ENV = REPO / ".connectors" / "pypi" / "meltanolabs-target-csv__0.5.0"
RESULTS = REPO / "bench" / "results" / "target-parquet.md"
RATE_TARGET = 150_000  # records per second, ours
SPEEDUP_TARGET = 20.0
EPOCH_2024_US = 1_704_067_200_000_000  # gen_stream.py: record i is 2024-01-01T00:00:00Z + i s
TAG_COUNTS = (1, 2, 0, 3, 1, 2, 1)  # gen_stream.py TAGS, by id % 7


class BenchError(Exception):
    """A run failed or its output is wrong; the message says which and why."""


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    peak_rss_mib: float
    stdout: bytes


@dataclass
class Timings:
    runs: list[Run] = field(default_factory=list)

    def median(self, attribute: str) -> float:
        return statistics.median(getattr(run, attribute) for run in self.runs)


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


def timed(command: list[str], stdin: Path) -> Run:
    """Run ``command < stdin``; wall and CPU seconds and peak RSS of that process alone."""
    with (
        stdin.open("rb") as source,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        started = time.perf_counter()
        process = subprocess.Popen(command, stdin=source, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            tail = err.read().decode(errors="replace")[-2000:]
            raise BenchError(f"{shlex.join(command)} exited {process.returncode}:\n{tail}")
        return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read())


@dataclass(frozen=True)
class Arm:
    name: str
    executable: Path
    folder_setting: str  # the setting naming the output folder


def run_arm(arm: Arm, stdin: Path, work: Path) -> tuple[Run, Path]:
    """Run one arm to the end into a fresh folder of ``work``."""
    out = Path(tempfile.mkdtemp(prefix=f"{arm.name}-", dir=work))
    config = out.with_suffix(".json")
    config.write_bytes(orjson.dumps({arm.folder_setting: str(out)}))
    return timed([str(arm.executable), "--config", str(config)], stdin), out


def check_state(name: str, run: Run, state: object) -> None:
    echoed = run.stdout.splitlines()
    if not echoed or orjson.loads(echoed[-1]) != state:
        raise BenchError(f"{name}: last stdout line {echoed[-1:]!r} is not the final state")


def _mod(values: pa.ChunkedArray, divisor: int) -> pa.ChunkedArray:
    """``values % divisor`` for non-negative integers (integer ``divide`` truncates)."""
    return pc.subtract(values, pc.multiply(pc.divide(values, divisor), divisor))


def verify_ours(out: Path, run: Run, records: int, state: object) -> None:
    """Read the Parquet files back; compare them, row for row, with the generator's rows."""
    files = sorted((out / "events").glob("*.parquet"))
    table = pa.concat_tables(pq.read_table(path) for path in files)
    ids = table.column("id")
    distinct = pc.count_distinct(ids).as_py()
    problems = []
    if table.num_rows != records or distinct != records:
        problems.append(f"{table.num_rows} rows, {distinct} distinct ids")
    if pc.min(ids).as_py() != 1 or pc.max(ids).as_py() != records:
        problems.append("ids are not 1..N")
    if table.schema.field("ts").type != pa.timestamp("us", tz="UTC"):
        problems.append(f"ts is {table.schema.field('ts').type}")
    user_numbers = pc.cast(_mod(pc.multiply(ids, 31), 10_007), pa.string())
    checks = {
        "ts": pc.equal(
            pc.cast(table.column("ts"), pa.int64()),
            pc.add(pc.multiply(ids, 1_000_000), EPOCH_2024_US),
        ),
        "user": pc.equal(
            table.column("user"), pc.binary_join_element_wise("user_", user_numbers, "")
        ),
        "amount": pc.equal(
            pc.cast(pc.round(pc.multiply(table.column("amount"), 100)), pa.int64()),
            _mod(pc.multiply(ids, 7_919), 1_000_000),
        ),
        "tags": pc.equal(
            pc.cast(pc.list_value_length(table.column("tags")), pa.int64()),
            pc.take(pa.array(TAG_COUNTS, pa.int64()), _mod(ids, 7)),
        ),
        "payload": pc.equal(pc.utf8_length(table.column("payload")), pc.add(_mod(ids, 41), 69)),
    }
    problems += [f"{name} differs" for name, equal in checks.items() if not pc.all(equal).as_py()]
    if problems:
        raise BenchError(f"ours: {', '.join(problems)} (want the {records} generated rows)")
    check_state("ours", run, state)


def verify_peer(out: Path, run: Run, records: int, state: object) -> None:
    """Read the CSV back: every record once."""
    table = pacsv.read_csv(out / "events.csv")
    distinct = pc.count_distinct(table.column("id")).as_py()
    if table.num_rows != records or distinct != records:
        raise BenchError(f"peer: {table.num_rows} rows, {distinct} distinct ids, want {records}")
    check_state("peer", run, state)


def load_rounds(
    ours: Arm, peer: Arm, data: Path, args: argparse.Namespace, work: Path
) -> dict[str, Timings]:
    """Alternate the arms' order round by round, after one uncounted warm-up run of ours;
    the peer runs in the first ``--peer-rounds`` rounds only. Outputs are verified in a
    separate process: a target inherits this process's peak RSS at fork, so this one must stay
    small for ``ru_maxrss`` to be the target's own."""
    expected = (args.records, final_state(data))
    verifiers = {"ours": verify_ours, "peer": verify_peer}
    timings = {"ours": Timings(), "peer": Timings()}
    run_arm(ours, data, work)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as verifier:
        for number in range(max(args.rounds, args.peer_rounds)):
            arms = [arm for arm in (ours, peer) if arm is ours or number < args.peer_rounds]
            for arm in arms if number % 2 == 0 else arms[::-1]:
                if arm is ours and number >= args.rounds:
                    continue
                run, out = run_arm(arm, data, work)
                verifier.submit(verifiers[arm.name], out, run, *expected).result()
                shutil.rmtree(out)
                timings[arm.name].runs.append(run)
                print(
                    f"  round {number + 1} {arm.name}: {run.wall:.2f} s wall, "
                    f"{run.cpu:.2f} s CPU, {run.peak_rss_mib:.0f} MiB",
                    file=sys.stderr,
                )
    return timings


def startup_rounds(ours: Arm, peer: Arm, rounds: int, work: Path) -> dict[str, Timings]:
    empty = work / "empty.singer"
    empty.write_bytes(b"")
    timings = {"ours --about": Timings(), "ours, empty stream": Timings()}
    timings |= {"peer --about": Timings(), "peer, empty stream": Timings()}
    for number in range(rounds):
        timings["ours --about"].runs.append(timed([str(ours.executable), "--about"], empty))
        timings["ours, empty stream"].runs.append(run_arm(ours, empty, work)[0])
        if number < 3:  # the peer takes seconds to start
            timings["peer --about"].runs.append(timed([str(peer.executable), "--about"], empty))
            timings["peer, empty stream"].runs.append(run_arm(peer, empty, work)[0])
    return timings


def report(
    args: argparse.Namespace, data: Path, load: dict[str, Timings], startup: dict[str, Timings]
) -> tuple[str, bool]:
    ours, peer = load["ours"], load["peer"]
    rate = args.records / ours.median("wall")
    cpu_rate = args.records / ours.median("cpu")
    speedup = peer.median("wall") / ours.median("wall")
    met = rate >= RATE_TARGET and speedup >= SPEEDUP_TARGET
    size_mb = data.stat().st_size / 1e6
    command = ".venv/bin/python bench/target_parquet_bench.py " + shlex.join(sys.argv[1:])
    header = "| arm | runs | median wall s | records/s (wall) | median CPU s | peak RSS MiB |"
    rows = [
        f"| {name} | {len(t.runs)} | {t.median('wall'):.2f} | "
        f"{args.records / t.median('wall'):,.0f} | {t.median('cpu'):.2f} | "
        f"{t.median('peak_rss_mib'):.0f} |"
        for name, t in (("ours: target-parquet (this repo)", ours), (f"peer: {PEER_SPEC}", peer))
    ]
    every = {name: ", ".join(f"{run.wall:.2f}" for run in t.runs) for name, t in load.items()}
    lines = [
        "# target-parquet benchmark",
        "",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Command: `{command.strip()}`.",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other work "
        f"(load average {args.load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the "
        f"end), Python {platform.python_version()}, pyarrow {pa.__version__}.",
        "",
        f"Input: `{data.relative_to(REPO)}` ({args.records:,} records, {size_mb:.1f} MB, a STATE "
        "every 10,000), `target --config c.json < stream`, default settings for both (ours: "
        "zstd, batches of 100,000; the peer validates records, as the SDK does by default). "
        "Every run checked: ours read back with pyarrow row for row against the generator "
        "(count, distinct ids, ts typed timestamp[us, UTC] and equal, user, amount, tags, "
        "payload); the peer's CSV read back (count, distinct ids); final state echoed last.",
        "",
        header,
        "| --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        f"Every wall time, ours: {every['ours']}; peer: {every['peer']}.",
        "",
        f"- Ours: **{rate:,.0f} records/s** wall ({cpu_rate:,.0f} per CPU second); target "
        f"{RATE_TARGET:,}: {'met' if rate >= RATE_TARGET else 'MISSED'}.",
        f"- Speed-up over the peer: **{speedup:.1f}x** (target {SPEEDUP_TARGET:.0f}x: "
        f"{'met' if speedup >= SPEEDUP_TARGET else 'MISSED'}); in CPU time "
        f"{peer.median('cpu') / ours.median('cpu'):.1f}x.",
        *(
            [
                "",
                f"The machine was busy (load average above its {os.cpu_count()} cores): wall "
                "times include waiting for a core, so CPU time is the steadier measure here.",
            ]
            if max(args.load_before, os.getloadavg()[0]) > (os.cpu_count() or 1)
            else []
        ),
        "",
        f"## Start-up ({args.startup_rounds} rounds of ours, 3 of the peer)",
        "",
        "| command | median wall s | median CPU s |",
        "| --- | --- | --- |",
        *(
            f"| {name} | {t.median('wall'):.3f} | {t.median('cpu'):.3f} |"
            for name, t in startup.items()
        ),
        "",
    ]
    return "\n".join(lines), met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=7, help="rounds of ours")
    parser.add_argument("--peer-rounds", type=int, default=3, help="rounds of the peer")
    parser.add_argument("--startup-rounds", type=int, default=10)
    parser.add_argument("--out", type=Path, default=RESULTS, help="Markdown result file")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    args.load_before = os.getloadavg()[0]
    if not OURS.exists():
        raise SystemExit(f"{OURS} is missing: run `make setup` first")
    peer = Arm(
        "peer",
        ConnectorEnv(PEER_ENV, (PEER_SPEC,)).ensure().executable("target-csv"),
        "output_path",
    )
    ours = Arm("ours", OURS, "destination_path")
    data = ensure_data(args.records)
    with tempfile.TemporaryDirectory(prefix="target-parquet-bench-") as work_dir:
        work = Path(work_dir)
        print(f"load: {args.records} records", file=sys.stderr)
        load = load_rounds(ours, peer, data, args, work)
        print("start-up", file=sys.stderr)
        startup = startup_rounds(ours, peer, args.startup_rounds, work)
    text, met = report(args, data, load, startup)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except BenchError as exc:
        print(f"target_parquet_bench: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
