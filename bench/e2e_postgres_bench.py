"""Postgres to Postgres end to end: `dativo run` tap-postgres -> target-postgres against the
physical limit (psql COPY piped into psql COPY), dlt and the meltanolabs pair, on one table.

The source ``bench_e2e.src`` (bigint key, numeric(18,6), text with quotes and unicode,
timestamptz, boolean, jsonb) is built once and reused while its comment names this script's
data version; ``bench_e2e.src_small`` holds its first ``--peer-rows`` rows for the slow
meltanolabs pair. Each arm loads into its own schema, dropped before every run:

- copy: ``psql -c "COPY src TO STDOUT" | psql -c "COPY dst FROM STDIN"`` into a table made
  ``LIKE`` the source ``INCLUDING ALL`` (its primary key, as target-postgres makes one; table
  creation not timed);
- dativo: ``dativo run job.yaml --full-refresh`` (private DATIVO_HOME; tap-postgres with
  ``emit_activate_version_messages`` false, target-postgres with ``add_record_metadata`` false,
  so both sides write what the COPY pipe writes);
- dlt: dlt 1.31 ``sql_table`` with the pyarrow backend, ``loader_file_format="csv"``,
  ``write_disposition="replace"`` (bench/programs/dlt_sql_copy.py in dlt's own venv);
- meltanolabs: meltanolabs-tap-postgres 0.10.0 piped into meltanolabs-target-postgres 0.8.1
  (their defaults, ``use_copy`` true), on ``src_small``; its ratio compares rows per second.

Rounds alternate the arms (order rotated each round); figures are medians of wall time. After
every run the destination must hold the source's row count and checksum (md5 over id, the
numeric without trailing zeros, the text, the epoch of the timestamp, the boolean and the
canonical jsonb text, in id order).

CPU: the client programs' own (every process the arm waited for), and, when the server runs
on this machine, the server's: the CPU of the backends that ended during the arm (the
postmaster's reaped children, so also any other session's, and autovacuum's, that ended
then). With ``--private-server`` the bench starts its own server (initdb, fsync off, the
source built there), so the server column counts this bench's backends alone.

Usage: .venv/bin/python bench/e2e_postgres_bench.py [--rows 1000000] [--rounds 3]
       [--peer-rows 50000] [--peer-rounds 1] [--arms copy,dativo,dlt,meltanolabs]
       [--private-server] [--output bench/results/e2e-postgres.md]
Needs `make setup`, psql on PATH and Postgres (DATIVO_TEST_PG_DSN, or initdb and pg_ctl for
``--private-server``); installs dlt and the meltanolabs pair into .connectors/pypi on first use.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict

from dativo_ingest.install import ConnectorEnv

REPO = Path(__file__).resolve().parents[1]
DSN = os.environ.get("DATIVO_TEST_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
SCHEMA = "bench_e2e"
RESULTS = REPO / "bench" / "results" / "e2e-postgres.md"
DATIVO = REPO / ".venv" / "bin" / "dativo"
TAP = REPO / ".connectors" / "bin" / "tap-postgres"
TARGET = REPO / ".connectors" / "bin" / "target-postgres"
DLT_SPEC = "dlt[postgres,sql_database,parquet]>=1.31,<1.32"
DLT_PROGRAM = REPO / "bench" / "programs" / "dlt_sql_copy.py"
PEER_TAP, PEER_TARGET = "meltanolabs-tap-postgres==0.10.0", "meltanolabs-target-postgres==0.8.1"
GOALS = {"copy": 2.5, "dlt": 4.0, "meltanolabs": 20.0}  # dativo within 2.5x copy; 4x, 20x faster
COLUMNS = "id, amount, label, created_at, active, payload"
CHECKSUM = """
SELECT count(*), md5(string_agg(concat_ws('|', id, trim_scale(amount::numeric), label,
    extract(epoch FROM created_at::timestamptz), active::text, payload::jsonb::text),
    E'\\n' ORDER BY id))
FROM {table}
"""


def create_sql(rows: int, peer_rows: int, version: str) -> str:
    return f"""
DROP SCHEMA IF EXISTS {SCHEMA} CASCADE;
CREATE SCHEMA {SCHEMA};
CREATE TABLE {SCHEMA}.src (
    id bigint PRIMARY KEY, amount numeric(18, 6), label text, created_at timestamptz,
    active boolean, payload jsonb
);
INSERT INTO {SCHEMA}.src
SELECT g, round((g * 1.234567)::numeric, 6),
       'customer "' || g || E'" \\\\ ünïcødé ✓ ' || md5(g::text),
       timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second', g % 3 = 0,
       jsonb_build_object('n', g, 'tier', 'tier' || (g % 5), 'tags',
                          jsonb_build_array('a' || (g % 7), g % 11), 'ok', g % 2 = 0)
FROM generate_series(1, {rows}) AS g;
CREATE TABLE {SCHEMA}.src_small AS SELECT * FROM {SCHEMA}.src WHERE id <= {peer_rows};
ALTER TABLE {SCHEMA}.src_small ADD PRIMARY KEY (id);
COMMENT ON TABLE {SCHEMA}.src IS '{version}';
ANALYZE {SCHEMA}.src;
ANALYZE {SCHEMA}.src_small;
"""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def sql(statement: str) -> list[tuple]:
    with psycopg.connect(DSN, autocommit=True) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


def connection() -> dict[str, object]:
    params = conninfo_to_dict(DSN)
    return {
        "host": params.get("host", "127.0.0.1"),
        "port": int(params.get("port", 5432)),
        "user": params.get("user", "postgres"),
        "password": params.get("password", "unused"),
        "database": params.get("dbname", "postgres"),
    }


def url() -> str:
    c = connection()
    return f"postgresql://{c['user']}:{c['password']}@{c['host']}:{c['port']}/{c['database']}"


def installed(spec: str, program: str) -> Path:
    folder = REPO / ".connectors" / "pypi" / re.sub(r"[^A-Za-z0-9_.-]", "_", spec)
    log(f"installing (or reusing) {spec}")
    return ConnectorEnv(folder, (spec,)).ensure().executable(program)


def server_cpu() -> Callable[[], float] | None:
    """A reader of the CPU seconds of the server's ended backends (its postmaster's reaped
    children), when the server runs on this machine; else None."""
    ((backend,),) = sql("SELECT pg_backend_pid()")
    try:
        parent = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1]
        if Path(f"/proc/{parent}/comm").read_text().strip() not in ("postgres", "postmaster"):
            return None
    except OSError:
        return None  # not this machine's
    stat, ticks = Path(f"/proc/{parent}/stat"), os.sysconf("SC_CLK_TCK")

    def read() -> float:
        time.sleep(0.5)  # the arm's backends end as their clients disconnect
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[13]) + int(fields[14])) / ticks  # cutime, cstime

    return read


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(
    command: list[str], folder: Path, name: str, env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Wall seconds and CPU seconds of the programs run in ``folder`` (every process they
    waited for; not the Postgres server's)."""
    started, cpu = time.perf_counter(), _children_cpu()
    with (folder / f"{name}.log").open("wb") as log_file:
        result = subprocess.run(
            command, stdout=subprocess.DEVNULL, stderr=log_file, env=env, cwd=folder
        )
    seconds, cpu = time.perf_counter() - started, _children_cpu() - cpu
    if result.returncode != 0:
        tail = (folder / f"{name}.log").read_text(errors="replace")[-3000:]
        raise SystemExit(f"{name} exited {result.returncode}:\n{tail}")
    return seconds, cpu


class Bench:
    """The arms, their destination tables, and the checks."""

    def __init__(self, args: argparse.Namespace, folder: Path) -> None:
        self.args = args
        self.folder = folder
        self.env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        self.arms: dict[str, tuple[Callable[[], tuple[float, float]], str, str]] = {}
        for name in args.arms:
            self.arms[name] = getattr(self, f"_prepare_{name}")()

    def _prepare_copy(self) -> tuple[Callable[[], tuple[float, float]], str, str]:
        psql = shlex.join(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", DSN, "-c"])
        out, into = f"COPY {SCHEMA}.src TO STDOUT", f"COPY {SCHEMA}_copy.src FROM STDIN"
        script = f"set -o pipefail; {psql} {shlex.quote(out)} | {psql} {shlex.quote(into)}"

        def arm() -> tuple[float, float]:
            sql(
                f"CREATE SCHEMA {SCHEMA}_copy; "
                f"CREATE TABLE {SCHEMA}_copy.src (LIKE {SCHEMA}.src INCLUDING ALL)"
            )
            return run(["bash", "-c", script], self.folder, "copy")

        return arm, f"{SCHEMA}_copy.src", f"{SCHEMA}.src"

    def _prepare_dativo(self) -> tuple[Callable[[], tuple[float, float]], str, str]:
        tap = {**connection(), "filter_schemas": [SCHEMA], "emit_activate_version_messages": False}
        target = {
            **connection(),
            "default_target_schema": f"{SCHEMA}_dativo",
            "add_record_metadata": False,
        }
        job = self.folder / "job.yaml"
        job.write_text(
            "tenant_id: bench\nname: e2e-postgres\n"
            f"source:\n  executable: {json.dumps(str(TAP))}\n  config: {json.dumps(tap)}\n"
            f"  select: [{json.dumps(SCHEMA + '-src.*')}]\n"
            f"target:\n  executable: {json.dumps(str(TARGET))}\n  config: {json.dumps(target)}\n"
        )
        env = {**self.env, "DATIVO_HOME": str(self.folder / "dativo-home")}

        def arm() -> tuple[float, float]:
            return run([str(DATIVO), "run", str(job), "--full-refresh"], self.folder, "dativo", env)

        return arm, f"{SCHEMA}_dativo.src", f"{SCHEMA}.src"

    def _prepare_dlt(self) -> tuple[Callable[[], tuple[float, float]], str, str]:
        python = installed(DLT_SPEC, "python")
        pipelines = self.folder / "dlt-pipelines"
        command = [str(python), str(DLT_PROGRAM), url(), SCHEMA, "src", f"{SCHEMA}_dlt"]
        env = {**self.env, "RUNTIME__LOG_LEVEL": "WARNING"}

        def arm() -> tuple[float, float]:
            return run([*command, str(pipelines)], self.folder, "dlt", env)

        return arm, f"{SCHEMA}_dlt.src", f"{SCHEMA}.src"

    def _prepare_meltanolabs(self) -> tuple[Callable[[], tuple[float, float]], str, str]:
        tap, target = installed(PEER_TAP, "tap-postgres"), installed(PEER_TARGET, "target-postgres")
        tap_config = self.folder / "peer-tap.json"
        tap_config.write_text(json.dumps({**connection(), "filter_schemas": [SCHEMA]}))
        target_config = self.folder / "peer-target.json"
        target_config.write_text(
            json.dumps({**connection(), "default_target_schema": f"{SCHEMA}_meltanolabs"})
        )
        discovered = subprocess.run(
            [str(tap), "--config", str(tap_config), "--discover"], capture_output=True, check=True
        )
        catalog = json.loads(discovered.stdout)
        for entry in catalog["streams"]:
            root = next(item for item in entry["metadata"] if item["breadcrumb"] == [])
            root["metadata"]["selected"] = entry["tap_stream_id"] == f"{SCHEMA}-src_small"
        catalog_file = self.folder / "peer-catalog.json"
        catalog_file.write_text(json.dumps(catalog))
        left = shlex.join([str(tap), "--config", str(tap_config), "--catalog", str(catalog_file)])
        right = shlex.join([str(target), "--config", str(target_config)])
        script = f"set -o pipefail; {left} | {right} > /dev/null"

        def arm() -> tuple[float, float]:
            return run(["bash", "-c", script], self.folder, "meltanolabs", self.env)

        return arm, f"{SCHEMA}_meltanolabs.src_small", f"{SCHEMA}.src_small"

    def measure(self) -> dict[str, list[tuple[float, float, float]]]:
        expected = {
            source: sql(CHECKSUM.format(table=source))[0] for *_, source in self.arms.values()
        }
        server = server_cpu()
        times: dict[str, list[tuple[float, float, float]]] = {name: [] for name in self.arms}
        names = list(self.arms)
        for round_number in range(1 + self.args.rounds):  # round 0: warm-up, not counted
            order = names[round_number % len(names) :] + names[: round_number % len(names)]
            for name in order:
                if name == "meltanolabs" and round_number > self.args.peer_rounds:
                    continue
                arm, destination, source = self.arms[name]
                sql(f"DROP SCHEMA IF EXISTS {destination.split('.')[0]} CASCADE")
                before = server() if server else 0.0
                seconds, cpu = arm()
                backends = server() - before if server else float("nan")
                found = sql(CHECKSUM.format(table=destination))[0]
                if found != expected[source]:
                    raise SystemExit(f"{name}: {destination} holds {found}, not {expected[source]}")
                log(
                    f"round {round_number} {name}: {seconds:.2f} s, {cpu:.2f} s client CPU, "
                    f"{backends:.2f} s server CPU (checked)"
                )
                if round_number:
                    times[name].append((seconds, cpu, backends))
        return times


def report(args: argparse.Namespace, runs: dict[str, list[tuple[float, float, float]]]) -> str:
    rows = {name: args.peer_rows if name == "meltanolabs" else args.rows for name in runs}
    times = {name: [wall for wall, _, _ in found] for name, found in runs.items()}
    cpus = {name: [cpu for _, cpu, _ in found] for name, found in runs.items()}
    servers = {name: [backends for _, _, backends in found] for name, found in runs.items()}
    rate = {name: rows[name] / statistics.median(times[name]) for name in times}
    load = os.getloadavg()
    where = "a private server" if args.private_server else "a shared server: others count too"
    lines = [
        "# Postgres to Postgres end to end",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores "
        f"shared with other work; load average at the end {load[0]:.1f} / {load[1]:.1f} / "
        f"{load[2]:.1f} (1/5/15 min): wall times are noisy. Client CPU: the programs' own "
        "CPU seconds (psql, dativo with tap and target, dlt, the peers); server CPU: the "
        f"backends' ({where}). Medians.",
        f"`{' '.join(sys.argv)}`",
        "",
        "| arm | rows | runs | median s | min s | rows/s | dativo vs arm | client CPU s "
        "| server CPU s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, seconds in times.items():
        versus = rate["dativo"] / rate[name] if "dativo" in rate else float("nan")
        lines.append(
            f"| {name} | {rows[name]:,} | {len(seconds)} | {statistics.median(seconds):.2f} | "
            f"{min(seconds):.2f} | {rate[name]:,.0f} | {versus:.2f}x | "
            f"{statistics.median(cpus[name]):.2f} | {statistics.median(servers[name]):.2f} |"
        )
    if "dativo" in rate:
        lines += ["", "| goal | measured | met |", "| --- | --- | --- |"]
        for name, goal in GOALS.items():
            if name not in rate:
                continue
            if name == "copy":
                ratio = rate["copy"] / rate["dativo"]
                lines.append(f"| dativo within {goal}x of copy | {ratio:.2f}x | {ratio <= goal} |")
            else:
                ratio = rate["dativo"] / rate[name]
                lines.append(
                    f"| dativo {goal}x faster than {name} | {ratio:.1f}x | {ratio >= goal} |"
                )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--peer-rows", type=int, default=50_000)
    parser.add_argument("--peer-rounds", type=int, default=1)
    parser.add_argument("--arms", type=lambda s: s.split(","), default=[*GOALS, "dativo"])
    parser.add_argument("--private-server", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    args.arms = ["copy", "dativo", *(arm for arm in args.arms if arm not in ("copy", "dativo"))]
    with ExitStack() as stack:
        if args.private_server:
            global DSN
            sys.path.insert(0, str(REPO))
            from tests.faults.postgres import PrivatePostgres

            server = PrivatePostgres()
            stack.callback(server.stop)
            DSN = server.dsn
            log(f"started a private server: {DSN}")
        version = f"e2e_postgres_bench v1 {args.rows} {args.peer_rows}"
        if sql(f"SELECT obj_description(to_regclass('{SCHEMA}.src'), 'pg_class')") != [(version,)]:
            log(f"creating {SCHEMA}.src ({args.rows:,} rows)")
            sql(create_sql(args.rows, args.peer_rows, version))
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="dativo-e2e-"))
        times = Bench(args, Path(folder)).measure()
    text = report(args, times)
    args.output.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
