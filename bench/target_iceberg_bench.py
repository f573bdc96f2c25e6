"""target-iceberg benchmark: ours against target-parquet on the same stream.

Both read the same cached Singer stream (bench/programs/gen_stream.py: stream ``events``,
1,000,000 records by default, a STATE every 10,000) as ``target --config c.json < stream``, with
default settings (ours: batches of 500,000 records, into a fresh local warehouse with its default
SQLite catalog). Rounds alternate the arms' order; figures are medians; CPU is user + system of
the target process, peak RSS its ``ru_maxrss``. A third arm runs ours on a smaller stream
(``--small-records``, one full batch by default): equal peak RSS at both sizes shows memory
bounded by the batch policy, not by the stream.

No community Singer Iceberg target is in the PyPI package list this project can install from
(searched for "iceberg" among Singer/Meltano targets), so there is no peer arm.

Every run is checked. Ours: the table is read back with pyiceberg (in a separate process) and
compared row for row with the generator (target-parquet's bench check), and its snapshots
counted: one per flush, marked with batches 1..N and the record counts 500,000, 1,000,000.
target-parquet: its files are read back by the same check. Both must echo the final state last.

Usage: .venv/bin/python bench/target_iceberg_bench.py [--records 1000000] [--rounds 3]
       [--small-records 500000] [--out bench/results/target-iceberg.md] [--check]
Needs `make setup` (.connectors/target-iceberg and .connectors/target-parquet). Progress goes to
stderr; the Markdown result to stdout and to --out.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import shlex
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pyarrow as pa
import target_parquet_bench as tpb

REPO = tpb.REPO
OURS = REPO / ".connectors" / "bin" / "target-iceberg"
PARQUET = tpb.OURS
RESULTS = REPO / "bench" / "results" / "target-iceberg.md"
RATE_TARGET = 150_000  # records per second, ours
RATIO_TARGET = 1.5  # ours' wall time over target-parquet's, at most
BATCH = 500_000  # the default batch_size_rows


def run_iceberg(stdin: Path, work: Path) -> tuple[tpb.Run, Path]:
    """Run ours into a fresh warehouse of ``work``."""
    warehouse = Path(tempfile.mkdtemp(prefix="iceberg-", dir=work))
    config = warehouse.with_suffix(".json")
    config.write_bytes(orjson.dumps({"warehouse": str(warehouse), "run_id": "bench"}))
    return tpb.timed([str(OURS), "--config", str(config)], stdin), warehouse


def verify_iceberg(warehouse: Path, run: tpb.Run, records: int, state: object) -> None:
    """Read the table back with pyiceberg: the generator's rows, one snapshot per flush."""
    from pyiceberg.catalog import load_catalog

    catalog = load_catalog("dativo", type="sql", uri=f"sqlite:///{warehouse / 'catalog.db'}")
    table = catalog.load_table(("default", "events"))
    marks = [
        (snapshot.summary["dativo.batch"], snapshot.summary["dativo.records"])
        for snapshot in table.snapshots()
    ]
    flushes = -(-records // BATCH)
    expected = [(str(n), str(min(n * BATCH, records))) for n in range(1, flushes + 1)]
    if marks != expected:
        raise tpb.BenchError(f"ours: snapshots {marks}, want one per flush: {expected}")
    folder = warehouse / "as-parquet"
    (folder / "events").mkdir(parents=True)
    # the same row-for-row check as target-parquet's bench, on what pyiceberg reads
    import pyarrow.parquet as pq

    pq.write_table(table.scan().to_arrow(), folder / "events" / "all.parquet")
    tpb.verify_ours(folder, run, records, state)


def load_rounds(args: argparse.Namespace, work: Path) -> dict[str, tpb.Timings]:
    """Alternate the arms' order round by round, after one uncounted warm-up run of each."""
    data, small = tpb.ensure_data(args.records), tpb.ensure_data(args.small_records)
    parquet = tpb.Arm("parquet", PARQUET, "destination_path")
    expected = {data: (args.records, tpb.final_state(data))}
    expected[small] = (args.small_records, tpb.final_state(small))
    arms = {
        "ours": lambda: (run_iceberg(data, work), verify_iceberg, data),
        "target-parquet": lambda: (tpb.run_arm(parquet, data, work), tpb.verify_ours, data),
        "ours, small stream": lambda: (run_iceberg(small, work), verify_iceberg, small),
    }
    timings = {name: tpb.Timings() for name in arms}
    run_iceberg(data, work)
    tpb.run_arm(parquet, data, work)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as verifier:
        for number in range(args.rounds):
            order = list(arms) if number % 2 == 0 else list(arms)[::-1]
            for name in order:
                (run, out), verify, stream = arms[name]()
                verifier.submit(verify, out, run, *expected[stream]).result()
                shutil.rmtree(out)
                timings[name].runs.append(run)
                print(
                    f"  round {number + 1} {name}: {run.wall:.2f} s wall, {run.cpu:.2f} s CPU, "
                    f"{run.peak_rss_mib:.0f} MiB",
                    file=sys.stderr,
                )
    return timings


def report(args: argparse.Namespace, load: dict[str, tpb.Timings]) -> tuple[str, bool]:
    ours, parquet, small = load["ours"], load["target-parquet"], load["ours, small stream"]
    rate = args.records / ours.median("wall")
    ratio = ours.median("wall") / parquet.median("wall")
    cpu_ratio = ours.median("cpu") / parquet.median("cpu")
    met = rate >= RATE_TARGET and ratio <= RATIO_TARGET
    command = ".venv/bin/python bench/target_iceberg_bench.py " + shlex.join(sys.argv[1:])
    sizes = {"ours, small stream": args.small_records}
    rows = [
        f"| {name} | {len(t.runs)} | {sizes.get(name, args.records):,} | "
        f"{t.median('wall'):.2f} | {sizes.get(name, args.records) / t.median('wall'):,.0f} | "
        f"{t.median('cpu'):.2f} | {sizes.get(name, args.records) / t.median('cpu'):,.0f} | "
        f"{t.median('peak_rss_mib'):.0f} |"
        for name, t in load.items()
    ]
    every = "; ".join(
        f"{name}: {', '.join(f'{run.wall:.2f}' for run in t.runs)}" for name, t in load.items()
    )
    loaded = max(args.load_before, os.getloadavg()[0]) > (os.cpu_count() or 1)
    lines = [
        "# target-iceberg benchmark",
        "",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Command: `{command.strip()}`.",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other work "
        f"(load average {args.load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the "
        f"end), Python {platform.python_version()}, pyarrow {pa.__version__}.",
        "",
        f"Input: `bench/data/events-{tpb.DATA_FORMAT}-{args.records}.singer` (a STATE every "
        "10,000 records), `target --config c.json < stream`, default settings (batches of "
        "100,000 for target-parquet, 500,000 for ours; ours: a local warehouse, SQLite "
        "catalog, append). Every run checked: "
        "rows read back (pyiceberg / pyarrow) and compared with the generator; ours: one "
        "snapshot per flush with its batch and record marks; final state echoed last.",
        "",
        "| arm | runs | records | median wall s | records/s (wall) | median CPU s | "
        "records/s (CPU) | peak RSS MiB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        f"Every wall time: {every}.",
        "",
        f"- Ours: **{rate:,.0f} records/s** wall; target {RATE_TARGET:,}: "
        f"{'met' if rate >= RATE_TARGET else 'MISSED'}.",
        f"- Ours / target-parquet: **{ratio:.2f}x** the wall time (target at most "
        f"{RATIO_TARGET}x: {'met' if ratio <= RATIO_TARGET else 'MISSED'}); "
        f"{cpu_ratio:.2f}x the CPU time.",
        f"- Peak RSS {ours.median('peak_rss_mib'):.0f} MiB for {args.records:,} records, "
        f"{small.median('peak_rss_mib'):.0f} MiB for {args.small_records:,}: bounded by the "
        "batch, not the stream.",
        *(
            [
                "",
                f"The machine was busy (load average above its {os.cpu_count()} cores): wall "
                "times include waiting for a core, so CPU time is the steadier measure here.",
            ]
            if loaded
            else []
        ),
        "",
    ]
    return "\n".join(lines), met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--small-records", type=int, default=500_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS, help="Markdown result file")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    args.load_before = os.getloadavg()[0]
    for program in (OURS, PARQUET):
        if not program.exists():
            raise SystemExit(f"{program} is missing: run `make setup` first")
    with tempfile.TemporaryDirectory(prefix="target-iceberg-bench-") as work_dir:
        load = load_rounds(args, Path(work_dir))
    text, met = report(args, load)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except tpb.BenchError as exc:
        print(f"target_iceberg_bench: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
