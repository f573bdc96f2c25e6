"""target-postgres benchmark: ours against pipelinewise-target-postgres and
meltanolabs-target-postgres, from PyPI, on the same Singer stream into the same local Postgres.

Every arm runs ``target-postgres --config c.json < stream`` (stream: bench/programs/gen_stream.py,
stream ``events`` with key ``id``, a STATE every 10,000 records) into its own schema, dropped
and created afresh before each run. Rounds alternate the arms (the order rotates each round);
figures are medians. Every run must exit 0 and leave exactly N rows with N distinct ids. Each
arm uses its own defaults but for the connection and the schema (ours and meltanolabs add the
``_sdc_*`` metadata columns, pipelinewise does not; meltanolabs loads with INSERT unless
``use_copy``, measured as another arm; ours also runs with ``batch_size_rows`` 10,000, the
Singer SDK's default, and without the metadata columns, like pipelinewise's output). The
``-upsert`` arms (ours and pipelinewise) load the stream into the table they filled with it
just before (not measured), so every record updates its row by key; pipelinewise-upsert is
compared with ours-upsert, and so is ``before-upsert``, the same with another build of ours
(``--before`` its executable, e.g. main's installed aside); ``ours-no-metadata-upsert`` is
ours-upsert without the metadata columns, the same output as pipelinewise's. One uncounted
warm-up run per arm first writes the bytecode caches (this machine sets
PYTHONDONTWRITEBYTECODE, unset for every arm alike).
Start-up of ours is measured too: ``--about`` and an empty stream.

Usage: .venv/bin/python bench/target_postgres_bench.py [--records 100000] [--rounds 7]
       [--peer-rounds 4] [--slow-rounds 2] [--startup-rounds 10] [--arms ...] [--check]
       [--before PROGRAM]
Needs `make setup` (ours linked into .connectors/bin) and Postgres (DATIVO_TEST_PG_DSN,
default host=127.0.0.1 port=5432 user=postgres dbname=postgres); installs the peers into
.connectors/pypi on first use. Progress goes to stderr, the Markdown result to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from dativo_ingest.install import ConnectorEnv

REPO = Path(__file__).resolve().parents[1]
GENERATOR = REPO / "bench" / "programs" / "gen_stream.py"
DATA_DIR = REPO / "bench" / "data"
DATA_FORMAT = "v1"  # the same cache files as bench/relay_bench.py
OURS = REPO / ".connectors" / "bin" / "target-postgres"
PIPELINEWISE = "pipelinewise-target-postgres==2.1.2"
MELTANOLABS = "meltanolabs-target-postgres==0.8.1"
DSN = os.environ.get("DATIVO_TEST_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
# ours must be this many times faster (the -upsert arms: than ours-upsert)
TARGETS = {"pipelinewise": 5.0, "pipelinewise-upsert": 5.0, "meltanolabs": 20.0}


class BenchError(Exception):
    """A run failed or left the wrong rows; the message says which and why."""


@dataclass(frozen=True)
class Arm:
    name: str
    spec: str | None  # PyPI requirement of a peer; None: ours (or --before's build)
    schema: str
    config: dict[str, object]
    slow: bool = False  # fewer rounds (--slow-rounds)
    populated: bool = False  # measured loading the stream again into the table it filled
    program: Path | None = None  # another build of ours (--before)


@dataclass
class Runs:
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def connection_settings() -> dict[str, object]:
    params = conninfo_to_dict(DSN)
    return {
        "host": params.get("host", "127.0.0.1"),
        "port": int(params.get("port", 5432)),
        "user": params.get("user", "postgres"),
        "password": params.get("password", "unused"),  # pipelinewise requires one
        "database": params.get("dbname", "postgres"),
    }


def arms(before: Path | None) -> list[Arm]:
    common = connection_settings()
    pipelinewise = {k: v for k, v in common.items() if k != "database"}
    pipelinewise["dbname"] = common["database"]  # pipelinewise's own key
    return [
        Arm("ours", None, "bench_tp_ours", {**common, "default_target_schema": "bench_tp_ours"}),
        Arm(
            "ours-batch-10k",
            None,
            "bench_tp_ours_10k",
            {**common, "default_target_schema": "bench_tp_ours_10k", "batch_size_rows": 10_000},
        ),
        Arm(
            "ours-no-metadata",
            None,
            "bench_tp_ours_nometa",
            {
                **common,
                "default_target_schema": "bench_tp_ours_nometa",
                "add_record_metadata": False,
            },
        ),
        Arm(
            "pipelinewise",
            PIPELINEWISE,
            "bench_tp_pipelinewise",
            {**pipelinewise, "default_target_schema": "bench_tp_pipelinewise"},
        ),
        Arm(
            "ours-upsert",
            None,
            "bench_tp_ours_upsert",
            {**common, "default_target_schema": "bench_tp_ours_upsert"},
            populated=True,
        ),
        Arm(
            "ours-no-metadata-upsert",
            None,
            "bench_tp_ours_nometa_upsert",
            {
                **common,
                "default_target_schema": "bench_tp_ours_nometa_upsert",
                "add_record_metadata": False,
            },
            populated=True,
        ),
        Arm(
            "pipelinewise-upsert",
            PIPELINEWISE,
            "bench_tp_pipelinewise_upsert",
            {**pipelinewise, "default_target_schema": "bench_tp_pipelinewise_upsert"},
            populated=True,
        ),
        Arm(
            "before-upsert",
            None,
            "bench_tp_before_upsert",
            {**common, "default_target_schema": "bench_tp_before_upsert"},
            populated=True,
            program=before,
        ),
        Arm(
            "meltanolabs",
            MELTANOLABS,
            "bench_tp_meltanolabs",
            {**common, "default_target_schema": "bench_tp_meltanolabs"},
            slow=True,
        ),
        Arm(
            "meltanolabs-copy",
            MELTANOLABS,
            "bench_tp_meltanolabs_copy",
            {**common, "default_target_schema": "bench_tp_meltanolabs_copy", "use_copy": True},
            slow=True,
        ),
    ]


def ensure_data(records: int) -> Path:
    path = DATA_DIR / f"events-{DATA_FORMAT}-{records}.singer"
    if not path.exists():
        log(f"generating {path.relative_to(REPO)} ...")
        command = [sys.executable, str(GENERATOR), "--records", str(records), "--out", str(path)]
        subprocess.run(command, check=True)
    return path


def executable(arm: Arm) -> Path:
    if arm.program is not None:
        return arm.program
    if arm.spec is None:
        if not OURS.exists():
            raise BenchError(f"{OURS} is missing: run `make setup`")
        return OURS
    folder = REPO / ".connectors" / "pypi" / re.sub(r"[^A-Za-z0-9_.-]", "_", arm.spec)
    log(f"installing {arm.spec} (cached in {folder.relative_to(REPO)}) ...")
    return ConnectorEnv(folder, (arm.spec,)).ensure().executable("target-postgres")


def reset_schema(schema: str) -> None:
    with psycopg.connect(DSN, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))


def drop_schema(schema: str) -> None:
    with psycopg.connect(DSN, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )


def check_rows(arm: Arm, records: int) -> None:
    with psycopg.connect(DSN) as connection:
        query = sql.SQL("SELECT count(*), count(DISTINCT id) FROM {}").format(
            sql.Identifier(arm.schema, "events")
        )
        found = connection.execute(query).fetchone()
    if found != (records, records):
        raise BenchError(f"{arm.name}: expected {records} rows and ids, found {found}")


def child_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def run_once(
    program: Path, config: Path, stdin: Path | None, *args: str
) -> tuple[float, float, int, bytes]:
    """Run one command; return wall seconds, CPU seconds, peak RSS (KiB), stderr tail."""
    with (
        stdin.open("rb") if stdin else open(os.devnull, "rb") as source,
        tempfile.TemporaryFile() as stderr,
    ):
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(program), "--config", str(config), *args],
            stdin=source,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=child_env(),
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        tail = stderr.read()[-2000:]
    if process.returncode != 0:
        raise BenchError(f"{program} exited {process.returncode}:\n{tail.decode(errors='replace')}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, tail


def measure_arm(
    arm: Arm, program: Path, config: Path, stream: Path, records: int
) -> tuple[float, float, int]:
    """Load the stream into the arm's fresh schema (``populated``: load it once unmeasured,
    then again, every record updating its row by key); check the rows; return the figures."""
    reset_schema(arm.schema)
    if arm.populated:
        run_once(program, config, stream)
    seconds, cpu, rss, _ = run_once(program, config, stream)
    check_rows(arm, records)
    return seconds, cpu, rss


def takes_part(round_number: int, rounds: int, total: int) -> bool:
    """Whether an arm with ``rounds`` of ``total`` rounds runs in this one: its rounds are
    spread over the whole run, so a change of load on the machine hits every arm alike."""
    return (round_number + 1) * rounds // total > round_number * rounds // total


def startup(program: Path, config: Path, rounds: int) -> dict[str, float]:
    about, empty = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run([str(program), "--about"], capture_output=True, check=True, env=child_env())
        about.append(time.perf_counter() - started)
        empty.append(run_once(program, config, None)[0])
    return {"about": statistics.median(about), "empty": statistics.median(empty)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7, help="counted rounds of ours")
    parser.add_argument("--peer-rounds", type=int, default=4, help="rounds of fast peers")
    parser.add_argument("--slow-rounds", type=int, default=2, help="rounds of meltanolabs arms")
    parser.add_argument("--startup-rounds", type=int, default=10)
    parser.add_argument(
        "--arms",
        default="ours,ours-batch-10k,ours-no-metadata,pipelinewise,meltanolabs,meltanolabs-copy",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--before",
        type=Path,
        help="target-postgres executable of another build, for the arm before-upsert",
    )
    args = parser.parse_args()

    chosen = [arm for arm in arms(args.before) if arm.name in args.arms.split(",")]
    if any(arm.name == "before-upsert" for arm in chosen) and args.before is None:
        raise BenchError("the arm before-upsert needs --before")
    stream = ensure_data(args.records)
    programs = {arm.name: executable(arm) for arm in chosen}
    results = {arm.name: Runs() for arm in chosen}
    planned = {
        arm.name: args.rounds
        if arm.spec is None
        else (args.slow_rounds if arm.slow else args.peer_rounds)
        for arm in chosen
    }
    with tempfile.TemporaryDirectory() as folder:
        configs = {}
        for arm in chosen:
            configs[arm.name] = Path(folder) / f"{arm.name}.json"
            configs[arm.name].write_text(json.dumps(arm.config))
        for arm in chosen:  # warm-up: bytecode caches, Postgres buffers
            log(f"warm-up {arm.name} ...")
            measure_arm(arm, programs[arm.name], configs[arm.name], stream, args.records)
        startup_figures = {}
        if "ours" in programs:
            log("start-up of ours ...")
            reset_schema("bench_tp_ours")
            startup_figures = startup(programs["ours"], configs["ours"], args.startup_rounds)
        total = max(planned.values())
        for round_number in range(total):
            order = chosen[round_number % len(chosen) :] + chosen[: round_number % len(chosen)]
            for arm in order:
                if not takes_part(round_number, planned[arm.name], total):
                    continue
                seconds, cpu, rss = measure_arm(
                    arm, programs[arm.name], configs[arm.name], stream, args.records
                )
                results[arm.name].seconds.append(seconds)
                results[arm.name].cpu.append(cpu)
                results[arm.name].rss_kib.append(rss)
                log(f"round {round_number + 1} {arm.name}: {seconds:.2f} s")
    for arm in chosen:
        drop_schema(arm.schema)
    report, missed = render(args, stream, results, startup_figures)
    print(report)
    return 1 if args.check and missed else 0


def render(
    args: argparse.Namespace,
    stream: Path,
    results: dict[str, Runs],
    startup_figures: dict[str, float],
) -> tuple[str, list[str]]:
    ours = results.get("ours")
    lines = [
        "# target-postgres benchmark",
        "",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Machine: {platform.machine()}, "
        f"{os.cpu_count()} cores (shared, noisy), Python {platform.python_version()}, "
        f"Postgres at `{DSN}`.",
        "",
        f"Command: `.venv/bin/python bench/target_postgres_bench.py --records {args.records} "
        f"--rounds {args.rounds} --peer-rounds {args.peer_rounds} "
        f"--slow-rounds {args.slow_rounds}`",
        "",
        f"Input: `{stream.relative_to(REPO)}` ({args.records:,} records, "
        f"{stream.stat().st_size / 1e6:.1f} MB), `target-postgres --config c.json < stream`, "
        "each arm into its own fresh schema; every run verified to leave "
        f"{args.records:,} rows with distinct ids.",
        "",
        "| arm | runs | median wall (s) | min-max (s) | median CPU of the target (s) "
        "| peak RSS (MiB) | ours faster by |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    verdicts, missed = [], []
    for name, runs in results.items():
        is_peer = not name.startswith("ours")
        base = results.get("ours-upsert") if name.endswith("-upsert") else ours
        ratio = runs.median / base.median if base and is_peer else None
        lines.append(
            f"| {name} | {len(runs.seconds)} | {runs.median:.2f} | {min(runs.seconds):.2f}-"
            f"{max(runs.seconds):.2f} | {statistics.median(runs.cpu):.2f} | "
            f"{max(runs.rss_kib) / 1024:.0f} | {f'{ratio:.1f}x' if ratio else ''} |"
        )
        if (wanted := TARGETS.get(name)) and ratio is not None:
            met = ratio >= wanted
            verdict = f"- vs {name}: {ratio:.1f}x, target >= {wanted:.0f}x: "
            verdict += "met" if met else "MISSED"
            upsert = name.endswith("-upsert")
            variants = (
                ("ours-no-metadata-upsert",) if upsert else ("ours-batch-10k", "ours-no-metadata")
            )
            for variant in variants:
                if other := results.get(variant):
                    verdict += f"; {variant}: {runs.median / other.median:.1f}x"
            verdicts.append(verdict)
            if not met:
                missed.append(name)
    lines += ["", *verdicts]
    if startup_figures:
        lines += [
            "",
            f"Start-up of ours (median of {args.startup_rounds}): `--about` "
            f"{startup_figures['about'] * 1000:.0f} ms, empty stream (connect, nothing to load) "
            f"{startup_figures['empty'] * 1000:.0f} ms.",
        ]
    return "\n".join(lines) + "\n", missed


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except BenchError as exc:
        log(f"benchmark failed: {exc}")
        raise SystemExit(1) from None
