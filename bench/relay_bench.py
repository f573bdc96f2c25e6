"""Relay benchmark: `dativo run` against the bare shell pipe of the same tap and target.

Both arms run the same two programs (bench/programs/replay_tap.py replaying a cached synthetic
Singer stream, bench/programs/count_sink.py counting it), alternating round by round. Two
profiles: ``singer`` (the tap writes message by message, the sink decodes every message, as
real connectors do) and ``raw`` (1 MiB block copies into a byte-scanning sink: the harshest
case for the relay, where it is the only work left). Wall
times are medians, the ratio is dativo / bare. The orchestrator's peak RSS comes from its own
run history (`dativo runs --json`), cross-checked by polling the dativo process with psutil.
Every run must exit 0 and the sink must have counted every record.

Usage: .venv/bin/python bench/relay_bench.py [--records 2000000] [--rounds 5] [--quick]
See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

try:
    import psutil
except ImportError:  # --bare-only runs on any python3; the dativo arm then loses one RSS source
    psutil = None

BENCH_DIR = Path(__file__).resolve().parent
PROGRAMS = BENCH_DIR / "programs"
DATA_DIR = BENCH_DIR / "data"
TAP = PROGRAMS / "replay_tap.py"
SINK = PROGRAMS / "count_sink.py"
GENERATOR = PROGRAMS / "gen_stream.py"
DATA_FORMAT = "v1"  # bump when gen_stream.py changes its output, so caches are not reused
RSS_POLL_SECONDS = 0.02
MB = 1_000_000
MIB = 1 << 20

RATIO_LIMIT = 1.15
RSS_LIMIT_MIB = 80.0
RSS_GROWTH_LIMIT_MIB = 8.0
FIXED_COST_LIMIT_S = 0.5


class BenchError(Exception):
    """A run failed or miscounted; the message says which and shows its stderr tail."""


PROFILES = {  # profile -> (tap config, sink config) beyond paths
    "singer": ({"mode": "messages"}, {"decode": True}),
    "raw": ({"mode": "chunks"}, {"decode": False}),
}


@dataclass(frozen=True)
class Section:
    name: str
    records: int
    rounds: int
    profile: str = "singer"


@dataclass(frozen=True)
class Measurement:
    seconds: float
    cpu_s: float  # user + system time of the arm's process and every process it waited for
    rss_psutil: int | None = None
    rss_history: int | None = None


@dataclass
class Workspace:
    """Files for one section: tap and sink configs, the job file, a private DATIVO_HOME."""

    root: Path
    records: int

    @property
    def tap_config(self) -> Path:
        return self.root / "tap.json"

    @property
    def sink_config(self) -> Path:
        return self.root / "sink.json"

    @property
    def count_file(self) -> Path:
        return self.root / "count.json"

    @property
    def job(self) -> Path:
        return self.root / "job.yaml"

    @property
    def home(self) -> Path:
        return self.root / "dativo-home"


@dataclass
class SectionResult:
    name: str
    profile: str
    records: int
    data_bytes: int
    bare_s: list[float] = field(default_factory=list)
    dativo_s: list[float] = field(default_factory=list)
    bare_cpu_s: list[float] = field(default_factory=list)
    dativo_cpu_s: list[float] = field(default_factory=list)
    rss_history_bytes: list[int | None] = field(default_factory=list)
    rss_psutil_bytes: list[int | None] = field(default_factory=list)

    @property
    def bare_median(self) -> float:
        return statistics.median(self.bare_s)

    @property
    def dativo_median(self) -> float | None:
        return median(self.dativo_s)

    @property
    def ratio(self) -> float | None:
        med = self.dativo_median
        return None if med is None else med / self.bare_median

    def add(self, arm: str, m: Measurement) -> None:
        if arm == "bare":
            self.bare_s.append(m.seconds)
            self.bare_cpu_s.append(m.cpu_s)
            return
        self.dativo_s.append(m.seconds)
        self.dativo_cpu_s.append(m.cpu_s)
        self.rss_history_bytes.append(m.rss_history)
        self.rss_psutil_bytes.append(m.rss_psutil)

    def peak_rss(self) -> tuple[int | None, str]:
        """Largest orchestrator RSS seen in any round, preferring dativo's own figure."""
        sources = {"history": self.rss_history_bytes, "psutil": self.rss_psutil_bytes}
        for source, values in sources.items():
            known = [v for v in values if v is not None]
            if known and len(known) == len(values):
                return max(known), source
        return None, "n/a"


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


# --- data and workspace -------------------------------------------------------------------


def ensure_data(records: int) -> Path:
    """Return the cached stream for ``records``, generating it on first use."""
    path = DATA_DIR / f"events-{DATA_FORMAT}-{records}.singer"
    if not path.exists():
        log(f"generating {path.relative_to(BENCH_DIR.parent)} ...")
        cmd = [sys.executable, str(GENERATOR), "--records", str(records), "--out", str(path)]
        subprocess.run(cmd, check=True)
    return path


def prepare_workspace(root: Path, data: Path, section: Section) -> Workspace:
    """Write the tap/sink configs and the dativo job file that both arms share."""
    records = section.records
    ws = Workspace(root=root, records=records)
    ws.home.mkdir()
    tap_extra, sink_extra = PROFILES[section.profile]
    tap_config = {"path": str(data), **tap_extra}
    ws.tap_config.write_text(json.dumps(tap_config), encoding="utf-8")
    sink_config = {"count_file": str(ws.count_file), **sink_extra}
    ws.sink_config.write_text(json.dumps(sink_config), encoding="utf-8")
    # JSON scalars and flow mappings are valid YAML; no YAML library needed.
    ws.job.write_text(
        f"tenant_id: bench\n"
        f"name: relay-{section.profile}-{records}\n"
        f"source:\n"
        f"  executable: {json.dumps(str(TAP))}\n"
        f"  config: {json.dumps(tap_config)}\n"
        f"target:\n"
        f"  executable: {json.dumps(str(SINK))}\n"
        f"  config: {json.dumps(sink_config)}\n",
        encoding="utf-8",
    )
    return ws


# --- running one arm ----------------------------------------------------------------------


def tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def check_count(ws: Workspace, stderr_file: Path, arm: str) -> None:
    """Fail unless the sink counted every record (its count file, else its stderr)."""
    if ws.count_file.exists():
        counted = json.loads(ws.count_file.read_text(encoding="utf-8"))["records"]
    else:
        found = re.findall(r"count_sink: records=(\d+)", stderr_file.read_text(errors="replace"))
        if not found:
            raise BenchError(f"{arm}: the sink reported no count\n{tail(stderr_file)}")
        counted = int(found[-1])
    if counted != ws.records:
        raise BenchError(f"{arm}: the sink counted {counted} records, expected {ws.records}")


def timed(
    cmd: list[str], ws: Workspace, arm: str, env: dict[str, str], poll_rss: bool = False
) -> Measurement:
    """Run ``cmd`` with output to files: wall and CPU time and, if asked, polled peak RSS.

    Fails on a non-zero exit or a wrong record count.
    """
    ws.count_file.unlink(missing_ok=True)
    out, err = ws.root / f"{arm}.stdout", ws.root / f"{arm}.stderr"
    with open(out, "wb") as fout, open(err, "wb") as ferr:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fout, stderr=ferr, cwd=ws.root, env=env)
        poller = RssPoller(proc.pid) if poll_rss else None
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    peak = poller.stop() if poller else None
    if code != 0:
        raise BenchError(f"{arm} exited {code}: {shlex.join(cmd)}\n{tail(err)}\n{tail(out)}")
    check_count(ws, err, arm)
    return Measurement(seconds, usage.ru_utime + usage.ru_stime, peak)


def program_env() -> dict[str, str]:
    """The environment for both arms, set up as a user's shell would be.

    ``python3`` on PATH is the harness's own interpreter: the programs start with
    ``#!/usr/bin/env python3``, and a pyenv or asdf shim there adds 50-100 ms to every start
    (`make bench` puts .venv/bin first on PATH for the same effect). PYTHONDONTWRITEBYTECODE is
    dropped: with it every start recompiles every imported module (about 0.2 s for dativo),
    which no installed program pays; the warm-up round writes the bytecode caches.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    here = Path(sys.executable).parent
    if (here / "python3").exists():
        env["PATH"] = os.pathsep.join([str(here), env.get("PATH", "")])
    return env


def run_bare(ws: Workspace) -> Measurement:
    tap = f"{shlex.quote(str(TAP))} --config {shlex.quote(str(ws.tap_config))}"
    sink = f"{shlex.quote(str(SINK))} --config {shlex.quote(str(ws.sink_config))}"
    script = f"set -o pipefail; {tap} | {sink} > /dev/null"
    return timed(["bash", "-c", script], ws, "bare", program_env())


def run_dativo(ws: Workspace, dativo: str) -> Measurement:
    env = {**program_env(), "DATIVO_HOME": str(ws.home)}
    cmd = [dativo, "run", str(ws.job), "--full-refresh"]
    measured = timed(cmd, ws, "dativo", env, poll_rss=True)
    return replace(measured, rss_history=rss_from_history(dativo, env))


def rss_from_history(dativo: str, env: dict[str, str]) -> int | None:
    """The newest run's ``orchestrator_peak_rss_bytes`` from `dativo runs --json`, if any."""
    proc = subprocess.run(
        [dativo, "runs", "--json", "--limit", "1"], capture_output=True, text=True, env=env
    )
    if proc.returncode != 0:
        return None
    try:
        runs = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return None
    if not isinstance(runs, list) or not runs or not isinstance(runs[0], dict):
        return None
    value = runs[0].get("orchestrator_peak_rss_bytes")
    return value if isinstance(value, int) else None


class RssPoller:
    """Poll one process's RSS every 20 ms on a thread; ``stop()`` returns the peak seen.

    Only that process: the connectors it starts are not counted. Without psutil, no figure.
    """

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._peak: int | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True) if psutil else None
        if self._thread:
            self._thread.start()

    def _run(self) -> None:
        gone = (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess)
        try:
            process = psutil.Process(self._pid)
            while not self._done.is_set():
                rss = process.memory_info().rss
                self._peak = rss if self._peak is None else max(self._peak, rss)
                self._done.wait(RSS_POLL_SECONDS)
        except gone:
            return

    def stop(self) -> int | None:
        self._done.set()
        if self._thread:
            self._thread.join()
        return self._peak


# --- one section --------------------------------------------------------------------------


def run_section(section: Section, dativo: str | None, warmup: int) -> SectionResult:
    data = ensure_data(section.records)
    result = SectionResult(section.name, section.profile, section.records, data.stat().st_size)
    with tempfile.TemporaryDirectory(prefix="dativo-bench-") as tmp:
        ws = prepare_workspace(Path(tmp), data, section)
        arms: list[tuple[str, Callable[[], Measurement]]] = [("bare", lambda: run_bare(ws))]
        if dativo:
            arms.append(("dativo", lambda: run_dativo(ws, dativo)))
        for _ in range(warmup):
            for _name, run in arms:
                run()
        for round_no in range(section.rounds):
            order = arms if round_no % 2 == 0 else arms[::-1]  # alternate who goes first
            for name, run in order:
                result.add(name, run())
            log(progress_line(section, round_no, result))
    return result


def progress_line(section: Section, round_no: int, result: SectionResult) -> str:
    line = f"[{section.name} {section.profile} {section.records}]"
    line += f" round {round_no + 1}/{section.rounds}"
    line += f" bare {result.bare_s[-1]:.3f}s"
    if result.dativo_s:
        line += f" dativo {result.dativo_s[-1]:.3f}s"
        hist, polled = result.rss_history_bytes[-1], result.rss_psutil_bytes[-1]
        line += f" rss history {mib(hist)} psutil {mib(polled)}"
    return line


# --- report -------------------------------------------------------------------------------


def mib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / MIB:.1f}MiB"


def evaluate_targets(results: list[SectionResult]) -> list[dict[str, object]]:
    """Check the issue's targets against whatever sections were run with dativo."""
    checks: list[dict[str, object]] = []

    def add(name: str, value: float | None, limit: float) -> None:
        ok = None if value is None else value <= limit
        checks.append({"target": name, "value": value, "limit": limit, "ok": ok})

    with_dativo = [r for r in results if r.dativo_s]
    for r in with_dativo:
        if r.name == "main":
            add(f"dativo/bare wall ratio, {r.records:,} records", r.ratio, RATIO_LIMIT)
        if r.name == "raw":
            checks.append(
                {
                    "target": f"raw-profile ratio, {r.records:,} records (reported)",
                    "value": r.ratio,
                    "limit": None,
                    "ok": None,
                }
            )
        if r.name == "fixed":
            add(f"dativo median wall s, {r.records} records", r.dativo_median, FIXED_COST_LIMIT_S)
        peak, _ = r.peak_rss()
        add(f"orchestrator peak RSS MiB, {r.records:,} records", mib_value(peak), RSS_LIMIT_MIB)
    peaks = {r.name: mib_value(r.peak_rss()[0]) for r in with_dativo}
    if peaks.get("main") is not None and peaks.get("rss") is not None:
        growth = peaks["main"] - peaks["rss"]
        add("orchestrator RSS growth MiB, main vs rss section", growth, RSS_GROWTH_LIMIT_MIB)
    return checks


def relay_only_ratio(results: list[SectionResult]) -> float | None:
    """The main ratio with each arm's 10-record time subtracted: the per-record relay cost."""
    by_name = {r.name: r for r in results}
    main, fixed = by_name.get("main"), by_name.get("fixed")
    if not (main and fixed and main.dativo_median and fixed.dativo_median):
        return None
    bare = main.bare_median - fixed.bare_median
    return (main.dativo_median - fixed.dativo_median) / bare if bare > 0 else None


def mib_value(value: int | None) -> float | None:
    return None if value is None else value / MIB


def fmt(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def render_table(results: list[SectionResult], checks: list[dict[str, object]]) -> str:
    head = f"{'section':<8}{'profile':<8}{'records':>11}{'MB':>8}"
    head += f"{'bare s':>9}{'dativo s':>10}{'ratio':>8}"
    head += f"{'bare CPU s':>12}{'dativo CPU s':>14}{'dativo peak RSS':>22}"
    lines = ["medians of alternated rounds; CPU = user + system of each arm's whole process tree"]
    lines += [head, "-" * len(head)]
    for r in results:
        peak, source = r.peak_rss()
        rss = "-" if not r.dativo_s else f"{fmt(mib_value(peak), '.1f')} MiB ({source})"
        lines.append(
            f"{r.name:<8}{r.profile:<8}{r.records:>11,}{r.data_bytes / MB:>8.1f}"
            f"{r.bare_median:>9.3f}"
            f"{fmt(r.dativo_median):>10}{fmt(r.ratio):>8}{fmt(median(r.bare_cpu_s)):>12}"
            f"{fmt(median(r.dativo_cpu_s)):>14}{rss:>22}"
        )
    relay_only = relay_only_ratio(results)
    if relay_only is not None:
        lines.append(f"relay-only ratio (main less each arm's 10-record time): {relay_only:.3f}")
    lines += ["", "individual wall times, s (in run order):"]
    for r in results:
        lines.append(f"  {r.name:<6} bare   " + " ".join(f"{s:.3f}" for s in r.bare_s))
        if r.dativo_s:
            lines.append(f"  {r.name:<6} dativo " + " ".join(f"{s:.3f}" for s in r.dativo_s))
    if checks:
        lines += ["", "targets:"]
        for c in checks:
            verdict = {True: "PASS", False: "FAIL", None: "n/a "}[c["ok"]]  # type: ignore[index]
            value = fmt(c["value"])  # type: ignore[arg-type]
            lines.append(f"  {verdict}  {c['target']}: {value} (limit {c['limit']})")
    return "\n".join(lines)


def report_json(results: list[SectionResult], checks: list[dict[str, object]]) -> str:
    sections = []
    for r in results:
        peak, source = r.peak_rss()
        extra = {"bare_median_s": r.bare_median, "dativo_median_s": r.dativo_median}
        extra |= {"bare_cpu_median_s": median(r.bare_cpu_s)}
        extra |= {"dativo_cpu_median_s": median(r.dativo_cpu_s)}
        extra |= {"ratio": r.ratio, "peak_rss_bytes": peak, "peak_rss_source": source}
        sections.append(asdict(r) | extra)
    machine = {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": sys.platform}
    doc = {"machine": machine, "sections": sections, "relay_only_ratio": relay_only_ratio(results)}
    return json.dumps(doc | {"targets": checks}, indent=2)


# --- command line -------------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def find_dativo(explicit: str | None) -> str:
    path = Path(explicit) if explicit else Path(sys.executable).parent / "dativo"
    if not os.access(path, os.X_OK):
        raise BenchError(
            f"no dativo executable at {path}; run `make setup` and use .venv/bin/python, "
            "pass --dativo PATH, or measure the bare pipe alone with --bare-only"
        )
    return str(path)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2_000_000, help="main section size")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the main section")
    parser.add_argument("--rss-records", type=int, default=100_000, help="second section size")
    parser.add_argument("--rss-rounds", type=int, default=5)
    parser.add_argument("--fixed-rounds", type=int, default=15, help="rounds of the 10-record run")
    parser.add_argument("--warmup", type=int, default=1, help="uncounted rounds per section")
    parser.add_argument(
        "--sections",
        default="main,raw,rss,fixed",
        help="comma-separated subset of main,raw,rss,fixed",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny sizes, 2 rounds")
    parser.add_argument("--bare-only", action="store_true", help="time the bare pipe alone")
    parser.add_argument("--dativo", help="dativo executable (default: next to sys.executable)")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)
    if min(args.rounds, args.rss_rounds, args.fixed_rounds) < 1 or args.warmup < 0:
        parser.error("rounds must be >= 1 and --warmup >= 0")
    if args.quick:
        args.records, args.rounds, args.rss_records, args.rss_rounds = 20_000, 2, 2_000, 2
        args.fixed_rounds, args.warmup = 3, 0
    return args


def plan(args: argparse.Namespace) -> list[Section]:
    every = {
        "main": Section("main", args.records, args.rounds),
        "raw": Section("raw", args.records, args.rounds, "raw"),
        "rss": Section("rss", args.rss_records, args.rss_rounds),
        "fixed": Section("fixed", 10, args.fixed_rounds),
    }
    wanted = [name.strip() for name in args.sections.split(",") if name.strip()]
    unknown = set(wanted) - set(every)
    if unknown:
        raise BenchError(f"unknown section(s) {sorted(unknown)}; choose from {sorted(every)}")
    return [every[name] for name in wanted]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        log("note: PYTHONDONTWRITEBYTECODE is set here; the measured programs run without it")
    try:
        sections = plan(args)
        dativo = None if args.bare_only else find_dativo(args.dativo)
        results = [run_section(s, dativo, args.warmup) for s in sections]
    except BenchError as exc:
        log(f"relay_bench: {exc}")
        return 2
    checks = evaluate_targets(results)
    print(report_json(results, checks) if args.json else render_table(results, checks))
    missed = any(c["ok"] is False for c in checks)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
