"""Relay benchmark: `dativo run` against the bare shell pipe and a peer tool (`meltano run`).

Every arm runs the same two programs (bench/programs/replay_tap.py replaying a cached synthetic
Singer stream, bench/programs/count_sink.py counting it), in an order that rotates round by
round. Two profiles: ``singer`` (the tap writes message by message, the sink decodes every
message, as real connectors do) and ``raw`` (1 MiB block copies into a byte-scanning sink: the
harshest case for a relay, where it is the only work left). Wall times are medians; ratios are
against the bare pipe and against each peer. The orchestrator's peak RSS comes from its own run
history (`dativo runs --json`), cross-checked by polling the dativo process with psutil; a
peer's peak RSS is polled the same way. Every run must exit 0 and the sink must have counted
every record.

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
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

try:
    import psutil
except ImportError:  # --bare-only runs on any python3; the dativo arm then loses one RSS source
    psutil = None

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
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
FIXED_COST_LIMIT_S = 0.15  # issue 11, point 6

MELTANO_SPEC = "meltano==4.4.1"  # the newest release at the time; installs on Python 3.11
MELTANO_ENV = {  # no telemetry, no version check against PyPI: a run makes no network call
    "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
    "MELTANO_DISABLE_TRACKING": "true",
    "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
    "MELTANO_SNOWPLOW_COLLECTOR_ENDPOINTS": "[]",
}


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
    """One section's temporary folder and the tap and sink settings every arm uses."""

    root: Path
    records: int
    profile: str
    tap_settings: dict[str, object]
    sink_settings: dict[str, object]

    @property
    def tap_config(self) -> Path:
        return self.root / "tap.json"

    @property
    def sink_config(self) -> Path:
        return self.root / "sink.json"

    @property
    def count_file(self) -> Path:
        return self.root / "count.json"


@dataclass
class ArmRuns:
    """One arm's measurements over the counted rounds of a section."""

    seconds: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)
    rss_history_bytes: list[int | None] = field(default_factory=list)
    rss_psutil_bytes: list[int | None] = field(default_factory=list)

    def add(self, m: Measurement) -> None:
        self.seconds.append(m.seconds)
        self.cpu_s.append(m.cpu_s)
        self.rss_history_bytes.append(m.rss_history)
        self.rss_psutil_bytes.append(m.rss_psutil)

    @property
    def median_s(self) -> float | None:
        return median(self.seconds)

    @property
    def cpu_median_s(self) -> float | None:
        return median(self.cpu_s)

    def peak_rss(self) -> tuple[int | None, str]:
        """Largest RSS seen in any round, preferring the tool's own figure to polling."""
        sources = {"history": self.rss_history_bytes, "psutil": self.rss_psutil_bytes}
        for source, values in sources.items():
            known = [v for v in values if v is not None]
            if known and len(known) == len(values):
                return max(known), source
        return None, "n/a"


@dataclass
class SectionResult:
    name: str
    profile: str
    records: int
    data_bytes: int
    arms: dict[str, ArmRuns] = field(default_factory=dict)

    def median(self, arm: str) -> float | None:
        runs = self.arms.get(arm)
        return runs.median_s if runs else None

    def ratio(self, arm: str, base: str, cpu: bool = False) -> float | None:
        """Median wall time (or CPU time) of ``arm`` over that of ``base``."""
        if arm not in self.arms or base not in self.arms:
            return None
        top, bottom = self.arms[arm], self.arms[base]
        if cpu:
            top_s, bottom_s = top.cpu_median_s, bottom.cpu_median_s
        else:
            top_s, bottom_s = top.median_s, bottom.median_s
        return None if top_s is None or not bottom_s else top_s / bottom_s

    def add(self, arm: str, m: Measurement) -> None:
        self.arms.setdefault(arm, ArmRuns()).add(m)


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


# --- data and workspace -------------------------------------------------------------------


def ensure_data(records: int) -> Path:
    """Return the cached stream for ``records``, generating it on first use."""
    path = DATA_DIR / f"events-{DATA_FORMAT}-{records}.singer"
    if not path.exists():
        log(f"generating {path.relative_to(REPO_DIR)} ...")
        cmd = [sys.executable, str(GENERATOR), "--records", str(records), "--out", str(path)]
        subprocess.run(cmd, check=True)
    return path


def prepare_workspace(root: Path, data: Path, section: Section) -> Workspace:
    """Write the tap and sink config files that every arm's programs read."""
    tap_extra, sink_extra = PROFILES[section.profile]
    ws = Workspace(
        root=root,
        records=section.records,
        profile=section.profile,
        tap_settings={"path": str(data), **tap_extra},
        sink_settings={"count_file": str(root / "count.json"), **sink_extra},
    )
    ws.tap_config.write_text(json.dumps(ws.tap_settings), encoding="utf-8")
    ws.sink_config.write_text(json.dumps(ws.sink_settings), encoding="utf-8")
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
    """The environment for every arm, set up as a user's shell would be.

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


class Arm(ABC):
    """One way of running the section's tap into its sink.

    ``rounds`` caps the counted rounds the arm takes part in (the first ones of each section);
    None means every round.
    """

    name = ""
    spec = ""  # the package a peer arm runs, for the report
    rounds: int | None = None

    @abstractmethod
    def prepare(self, ws: Workspace) -> None:
        """Write whatever the arm needs in the section's folder; once, before any round."""

    @abstractmethod
    def run(self, ws: Workspace) -> Measurement:
        """Run the section's tap into its sink once; fail unless every record arrived."""


class BareArm(Arm):
    """`bash -c 'set -o pipefail; tap | sink > /dev/null'`: the baseline."""

    name = "bare"

    def prepare(self, ws: Workspace) -> None:
        """Nothing to write: the tap and sink config files are all the pipe needs."""

    def run(self, ws: Workspace) -> Measurement:
        tap = f"{shlex.quote(str(TAP))} --config {shlex.quote(str(ws.tap_config))}"
        sink = f"{shlex.quote(str(SINK))} --config {shlex.quote(str(ws.sink_config))}"
        script = f"set -o pipefail; {tap} | {sink} > /dev/null"
        return timed(["bash", "-c", script], ws, self.name, program_env())


class DativoArm(Arm):
    """`dativo run job.yaml --full-refresh` with a private DATIVO_HOME per section."""

    name = "dativo"

    def __init__(self, executable: str) -> None:
        self.executable = executable

    @staticmethod
    def job(ws: Workspace) -> Path:
        return ws.root / "job.yaml"

    def home(self, ws: Workspace) -> Path:
        return ws.root / f"{self.name}-home"

    def env(self, ws: Workspace) -> dict[str, str]:
        return {**program_env(), "DATIVO_HOME": str(self.home(ws))}

    def prepare(self, ws: Workspace) -> None:
        self.home(ws).mkdir()
        # JSON scalars and flow mappings are valid YAML; no YAML library needed.
        self.job(ws).write_text(
            f"tenant_id: bench\n"
            f"name: relay-{ws.profile}-{ws.records}\n"
            f"source:\n"
            f"  executable: {json.dumps(str(TAP))}\n"
            f"  config: {json.dumps(ws.tap_settings)}\n"
            f"target:\n"
            f"  executable: {json.dumps(str(SINK))}\n"
            f"  config: {json.dumps(ws.sink_settings)}\n",
            encoding="utf-8",
        )

    def run(self, ws: Workspace) -> Measurement:
        env = self.env(ws)
        cmd = [self.executable, "run", str(self.job(ws)), "--full-refresh"]
        measured = timed(cmd, ws, self.name, env, poll_rss=True)
        return replace(measured, rss_history=self.rss_from_history(env))

    def rss_from_history(self, env: dict[str, str]) -> int | None:
        """The newest run's ``orchestrator_peak_rss_bytes`` from `dativo runs --json`, if any."""
        proc = subprocess.run(
            [self.executable, "runs", "--json", "--limit", "1"],
            capture_output=True,
            text=True,
            env=env,
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


class BaselineDativoArm(DativoArm):
    """Another dativo build (say, the commit before a change), alternated with this one."""

    name = "dativo-baseline"


class TerminalDativoArm(DativoArm):
    """`dativo run` on a pseudo-terminal (util-linux `script`), drawing its live progress."""

    name = "dativo-tty"

    def run(self, ws: Workspace) -> Measurement:
        env = {**self.env(ws), "TERM": "xterm-256color"}
        command = shlex.join([self.executable, "run", str(self.job(ws)), "--full-refresh"])
        measured = timed(
            ["script", "--quiet", "--return", "--command", command, "/dev/null"], ws, self.name, env
        )
        return replace(measured, rss_history=self.rss_from_history(env))


class MeltanoArm(Arm):
    """`meltano run tap-replay target-count --full-refresh` in a throwaway project per section.

    Both plugins are custom and have no ``pip_url``: Meltano then installs nothing and runs
    ``executable`` as given (an absolute path here). The system database (SQLite in the
    project's .meltano folder) is the state backend, Meltano's default; it is created by the
    warm-up round.
    """

    name = "meltano"
    spec = MELTANO_SPEC

    def __init__(self, executable: str, rounds: int) -> None:
        self.executable = executable
        self.rounds = rounds

    @staticmethod
    def project(ws: Workspace) -> Path:
        return ws.root / "meltano-project"

    def prepare(self, ws: Workspace) -> None:
        project = self.project(ws)
        project.mkdir()
        # JSON flow mappings are valid YAML; no YAML library needed.
        (project / "meltano.yml").write_text(
            f"project_id: dativo-relay-bench\n"
            f"send_anonymous_usage_stats: false\n"
            f"default_environment: bench\n"
            f"environments:\n"
            f"- name: bench\n"
            f"plugins:\n"
            f"  extractors:\n"
            f"  - name: tap-replay\n"
            f"    namespace: tap_replay\n"
            f"    executable: {json.dumps(str(TAP))}\n"
            f"    capabilities: [state]\n"
            f"    config: {json.dumps(ws.tap_settings)}\n"
            f"  loaders:\n"
            f"  - name: target-count\n"
            f"    namespace: target_count\n"
            f"    executable: {json.dumps(str(SINK))}\n"
            f"    config: {json.dumps(ws.sink_settings)}\n",
            encoding="utf-8",
        )

    def run(self, ws: Workspace) -> Measurement:
        env = {**program_env(), **MELTANO_ENV}
        cmd = [self.executable, "--cwd", str(self.project(ws))]
        cmd += ["run", "tap-replay", "target-count", "--full-refresh"]
        return timed(cmd, ws, self.name, env, poll_rss=True)


def install_meltano(rounds: int) -> MeltanoArm:
    """Install ``MELTANO_SPEC`` into its own environment under .connectors/pypi, once."""
    from dativo_ingest.install import ConnectorEnv, InstallError  # only peers need dativo

    log(f"{MELTANO_SPEC}: its environment in .connectors/pypi (installed on first use) ...")
    try:
        env = ConnectorEnv(REPO_DIR / ".connectors" / "pypi" / MELTANO_SPEC, (MELTANO_SPEC,))
        env.ensure()
    except InstallError as exc:
        raise BenchError(f"{exc}\nskip the peer with --peers none") from exc
    return MeltanoArm(str(env.executable("meltano")), rounds)


PEERS: dict[str, Callable[[int], Arm]] = {"meltano": install_meltano}


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


def round_order(arms: list[Arm], round_no: int) -> list[Arm]:
    """The arms taking part in this round, rotated by the round number: who goes first turns."""
    taking_part = [a for a in arms if a.rounds is None or round_no < a.rounds]
    shift = round_no % len(taking_part)
    return taking_part[shift:] + taking_part[:shift]


def run_section(section: Section, arms: list[Arm], warmup: int) -> SectionResult:
    data = ensure_data(section.records)
    result = SectionResult(section.name, section.profile, section.records, data.stat().st_size)
    with tempfile.TemporaryDirectory(prefix="dativo-bench-") as tmp:
        ws = prepare_workspace(Path(tmp), data, section)
        for arm in arms:
            arm.prepare(ws)
        for _ in range(warmup):
            for arm in arms:
                arm.run(ws)
        for round_no in range(section.rounds):
            measured = {arm.name: arm.run(ws) for arm in round_order(arms, round_no)}
            for name, m in measured.items():
                result.add(name, m)
            log(progress_line(section, round_no, measured))
    return result


def progress_line(section: Section, round_no: int, measured: dict[str, Measurement]) -> str:
    line = f"[{section.name} {section.profile} {section.records}]"
    line += f" round {round_no + 1}/{section.rounds}"
    for name, m in measured.items():
        line += f" {name} {m.seconds:.3f}s"
        rss = {"history": m.rss_history, "psutil": m.rss_psutil}
        line += "".join(f" rss {source} {mib(v)}" for source, v in rss.items() if v is not None)
    return line


# --- report -------------------------------------------------------------------------------


def mib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / MIB:.1f}MiB"


def evaluate_targets(results: list[SectionResult]) -> list[dict[str, object]]:
    """Check the issue's targets against whatever sections were run with dativo."""
    checks: list[dict[str, object]] = []

    def add(name: str, value: float | None, limit: float | None) -> None:
        ok = None if value is None or limit is None else value <= limit
        checks.append({"target": name, "value": value, "limit": limit, "ok": ok})

    with_dativo = [r for r in results if "dativo" in r.arms]
    for r in with_dativo:
        ratio, records = r.ratio("dativo", "bare"), f"{r.records:,} records"
        if r.name == "main":
            add(f"dativo/bare wall ratio, {records}", ratio, RATIO_LIMIT)
        if r.name == "raw":
            add(f"raw-profile ratio, {records} (reported)", ratio, None)
        if r.name == "fixed":
            add(f"dativo median wall s, {records}", r.median("dativo"), FIXED_COST_LIMIT_S)
        peak, _ = r.arms["dativo"].peak_rss()
        add(f"orchestrator peak RSS MiB, {records}", mib_value(peak), RSS_LIMIT_MIB)
    peaks = {r.name: mib_value(r.arms["dativo"].peak_rss()[0]) for r in with_dativo}
    if peaks.get("main") is not None and peaks.get("rss") is not None:
        growth = peaks["main"] - peaks["rss"]
        add("orchestrator RSS growth MiB, main vs rss section", growth, RSS_GROWTH_LIMIT_MIB)
    return checks


def relay_only_ratio(results: list[SectionResult], arm: str) -> float | None:
    """The main section's ``arm``/bare ratio with each one's 10-record time subtracted."""
    by_name = {r.name: r for r in results}
    main, fixed = by_name.get("main"), by_name.get("fixed")
    if not (main and fixed and main.median(arm) and fixed.median(arm)):
        return None
    bare = main.median("bare") - fixed.median("bare")
    return (main.median(arm) - fixed.median(arm)) / bare if bare > 0 else None


def mib_value(value: int | None) -> float | None:
    return None if value is None else value / MIB


def fmt(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def arm_names(results: list[SectionResult]) -> list[str]:
    """Every arm that ran, in the order it was first seen: bare, dativo, then peers."""
    return list(dict.fromkeys(name for r in results for name in r.arms))


def ratio_pairs(names: list[str]) -> list[tuple[str, str]]:
    """(arm, base) for every ratio reported: each arm over bare, then dativo over each peer."""
    pairs = [(name, "bare") for name in names if name != "bare"]
    peers = [name for name in names if name not in ("bare", "dativo")]
    return pairs + [("dativo", peer) for peer in peers if "dativo" in names]


def table(head: list[str], rows: list[list[str]]) -> list[str]:
    """Right-aligned columns, the first two left-aligned, with a rule under the header."""
    grid = [head, *rows]
    widths = [max(len(row[i]) for row in grid) + 2 for i in range(len(head))]

    def cell(i: int, text: str) -> str:
        return text.ljust(widths[i]) if i < 2 else text.rjust(widths[i])

    lines = ["".join(cell(i, c) for i, c in enumerate(row)).rstrip() for row in grid]
    lines.insert(1, "-" * sum(widths))
    return lines


def wall_table(results: list[SectionResult], names: list[str]) -> list[str]:
    pairs = ratio_pairs(names)
    head = ["section", "profile", "records", "MB", *(f"{n} s" for n in names)]
    head += [*(f"{a}/{b}" for a, b in pairs), "rounds"]
    rows = []
    for r in results:
        runs = [r.arms.get(n, ArmRuns()) for n in names]
        rows.append(
            [r.name, r.profile, f"{r.records:,}", f"{r.data_bytes / MB:.1f}"]
            + [fmt(a.median_s) for a in runs]
            + [fmt(r.ratio(a, b)) for a, b in pairs]
            + ["/".join(str(len(a.seconds)) for a in runs)]
        )
    return table(head, rows)


def cost_table(results: list[SectionResult], names: list[str]) -> list[str]:
    pairs = ratio_pairs(names)
    polled = [name for name in names if name != "bare"]
    head = ["section", "profile", *(f"{n} CPU s" for n in names)]
    head += [*(f"{a}/{b}" for a, b in pairs), *(f"{n} peak RSS" for n in polled)]
    rows = []
    for r in results:
        runs = {n: r.arms.get(n, ArmRuns()) for n in names}
        row = [r.name, r.profile] + [fmt(a.cpu_median_s, ".2f") for a in runs.values()]
        row += [fmt(r.ratio(a, b, cpu=True)) for a, b in pairs]
        for name in polled:
            peak, source = runs[name].peak_rss()
            row.append("-" if peak is None else f"{mib_value(peak):.1f} MiB ({source})")
        rows.append(row)
    return table(head, rows)


def render_table(
    results: list[SectionResult], checks: list[dict[str, object]], context: dict[str, object]
) -> str:
    names = arm_names(results)
    lines = [f"{key}: {value}" for key, value in context.items()]
    lines += ["", "wall time: medians of rounds in rotating order; rounds = counted runs per arm"]
    lines += wall_table(results, names)
    lines += ["", "cost: CPU = user + system of each arm's process tree, medians and their ratios;"]
    lines += ["peak RSS = the tool's own process only (not its connectors), largest of the rounds"]
    lines += cost_table(results, names)
    for name in names[1:]:
        value = relay_only_ratio(results, name)
        if value is not None:
            lines.append(f"relay-only {name}/bare (main less each 10-record time): {value:.3f}")
    lines += ["", "individual wall times, s (in run order):"]
    for r in results:
        for name, runs in r.arms.items():
            lines.append(f"  {r.name:<6} {name:<12}" + " ".join(f"{s:.3f}" for s in runs.seconds))
    if checks:
        lines += ["", "targets:"]
        for c in checks:
            verdict = {True: "PASS", False: "FAIL", None: "n/a "}[c["ok"]]  # type: ignore[index]
            value = fmt(c["value"])  # type: ignore[arg-type]
            lines.append(f"  {verdict}  {c['target']}: {value} (limit {c['limit']})")
    return "\n".join(lines)


def report_json(
    results: list[SectionResult], checks: list[dict[str, object]], context: dict[str, object]
) -> str:
    names = arm_names(results)
    sections = []
    for r in results:
        arms = {}
        for name, runs in r.arms.items():
            peak, source = runs.peak_rss()
            arms[name] = asdict(runs) | {
                "median_s": runs.median_s,
                "cpu_median_s": runs.cpu_median_s,
                "peak_rss_bytes": peak,
                "peak_rss_source": source,
            }
        pairs = ratio_pairs(names)
        ratios = {f"{a}/{b}": r.ratio(a, b) for a, b in pairs}
        cpu_ratios = {f"{a}/{b}": r.ratio(a, b, cpu=True) for a, b in pairs}
        info = {"name": r.name, "profile": r.profile, "records": r.records}
        info |= {"data_bytes": r.data_bytes, "arms": arms}
        sections.append(info | {"ratios": ratios, "cpu_ratios": cpu_ratios})
    relay_only = {n: relay_only_ratio(results, n) for n in names if n != "bare"}
    doc = context | {"sections": sections, "relay_only_ratio": relay_only, "targets": checks}
    return json.dumps(doc, indent=2)


# --- command line -------------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_average() -> list[float]:
    """The machine's 1, 5 and 15 minute load averages: how busy it was besides the benchmark."""
    return [round(value, 2) for value in os.getloadavg()]


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
    parser.add_argument(
        "--peers", default="meltano", help=f"peer tools to run ({','.join(PEERS)}) or 'none'"
    )
    parser.add_argument(
        "--peer-rounds", type=int, default=3, help="counted rounds per section for each peer"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny sizes, 2 rounds")
    parser.add_argument("--bare-only", action="store_true", help="time the bare pipe alone")
    parser.add_argument("--dativo", help="dativo executable (default: next to sys.executable)")
    parser.add_argument(
        "--baseline-dativo", help="another dativo build to alternate with (arm dativo-baseline)"
    )
    parser.add_argument(
        "--tty", action="store_true", help="also run dativo on a pseudo-terminal (arm dativo-tty)"
    )
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)
    if min(args.rounds, args.rss_rounds, args.fixed_rounds, args.peer_rounds) < 1:
        parser.error("rounds must be >= 1")
    if args.warmup < 0:
        parser.error("--warmup must be >= 0")
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


def peer_names(spec: str) -> list[str]:
    wanted = [name.strip() for name in spec.split(",") if name.strip() not in ("", "none")]
    unknown = set(wanted) - set(PEERS)
    if unknown:
        raise BenchError(f"unknown peer(s) {sorted(unknown)}; choose from {sorted(PEERS)} or none")
    return wanted


def build_arms(args: argparse.Namespace) -> list[Arm]:
    """Bare, then dativo, then each peer (installed on first use)."""
    arms: list[Arm] = [BareArm()]
    if args.bare_only:
        return arms
    arms.append(DativoArm(find_dativo(args.dativo)))
    if args.baseline_dativo:
        arms.append(BaselineDativoArm(find_dativo(args.baseline_dativo)))
    if args.tty:
        arms.append(TerminalDativoArm(find_dativo(args.dativo)))
    arms += [PEERS[name](args.peer_rounds) for name in peer_names(args.peers)]
    return arms


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        log("note: PYTHONDONTWRITEBYTECODE is set here; the measured programs run without it")
    machine = {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": sys.platform}
    load_start = load_average()
    try:
        sections = plan(args)
        arms = build_arms(args)
        results = [run_section(s, arms, args.warmup) for s in sections]
    except BenchError as exc:
        log(f"relay_bench: {exc}")
        return 2
    context: dict[str, object] = {
        "machine": machine,
        "load_average_1_5_15_min": {"start": load_start, "end": load_average()},
        "peers": {arm.name: arm.spec for arm in arms if arm.spec},
    }
    checks = evaluate_targets(results)
    report = report_json if args.json else render_table
    print(report(results, checks, context))
    missed = any(c["ok"] is False for c in checks)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
