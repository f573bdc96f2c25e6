"""``dativo logs [RUN_ID | JOB]``: a run's full log, filtered, or followed while it runs."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import yaml

from dativo_ingest.exceptions import ConfigurationError
from dativo_ingest.logs import LEVELS, terminal_format
from dativo_ingest.logs.formats import render_text
from dativo_ingest.logs.runlog import logs_root, parse_entry
from dativo_ingest.state import StateStore, dativo_home, open_store

FOLLOW_POLL_SECONDS = 0.3


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "logs", help="show a run's log (default: the latest run; a job: its latest run)"
    )
    parser.add_argument("run", nargs="?", help="a run id, a job's state id or a job file")
    parser.add_argument(
        "-f", "--follow", action="store_true", help="keep printing while the run goes on"
    )
    parser.add_argument("--side", choices=["source", "target"], help="only this connector's lines")
    parser.add_argument(
        "--level",
        default="DEBUG",
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="only lines at this level or above (default: DEBUG, everything)",
    )
    parser.set_defaults(handler=show_logs)


def show_logs(args: argparse.Namespace) -> int:
    home = dativo_home()
    store = open_store(home)
    try:
        path, state_id, run_id = _find_log(store, home, args.run)
        lines = _follow(path, store, state_id, run_id) if args.follow else _read(path)
        as_json = terminal_format() == "json"
        minimum = LEVELS[args.level]
        for line in lines:
            entry = parse_entry(line)
            if args.side and entry.get("side") != args.side:
                continue
            if LEVELS.get(str(entry.get("level")), 0) < minimum:
                continue
            sys.stdout.write((line.decode().rstrip("\n") if as_json else _text(entry)) + "\n")
            sys.stdout.flush()
    finally:
        store.close()
    return 0


def _text(entry: dict[str, Any]) -> str:
    """As the terminal showed it: local time of day, level, connector, message."""
    try:
        time_of_day = (
            datetime.fromisoformat(str(entry.get("time"))).astimezone().strftime("%H:%M:%S")
        )
    except ValueError:
        time_of_day = "--:--:--"
    return render_text(
        time_of_day, str(entry.get("level")), entry.get("connector"), str(entry.get("message"))
    )


def _find_log(store: StateStore, home: Path, wanted: str | None) -> tuple[Path, str, str]:
    """The log file, state id and run id of what the user named."""
    if wanted and "/" not in wanted and not wanted.endswith((".yaml", ".yml")):
        found = sorted(logs_root(home).glob(f"*/*/{wanted}.log"))
        if not found:
            raise ConfigurationError(
                f"no log for run {wanted} under {logs_root(home)}; `dativo runs` lists the runs"
            )
        path = found[0]
        return path, f"{path.parent.parent.name}/{path.parent.name}", wanted
    state_id = _state_id_of_job_file(Path(wanted)) if wanted and Path(wanted).is_file() else wanted
    runs = store.list_runs(1, state_id)
    if not runs:
        raise ConfigurationError(f"no runs recorded{f' for {state_id}' if state_id else ''}")
    run = runs[0]
    if not run.log_path or not Path(run.log_path).exists():
        raise ConfigurationError(
            f"run {run.run_id} has no log file (written by an older dativo, or pruned)"
        )
    return Path(run.log_path), run.state_id, run.run_id


def _state_id_of_job_file(path: Path) -> str:
    try:
        document = yaml.safe_load(path.read_text())
        return f"{document['tenant_id']}/{document['name']}"
    except (OSError, yaml.YAMLError, TypeError, KeyError) as exc:
        raise ConfigurationError(f"{path}: cannot read tenant_id and name ({exc})") from None


def _read(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as file:
        yield from (line for line in file if line.strip())


def _follow(path: Path, store: StateStore, state_id: str, run_id: str) -> Iterator[bytes]:
    """The log's lines as they are written, until the run is no longer running."""
    with open(path, "rb") as file:
        while True:
            yield from _whole_lines(file)
            if not _is_running(store, state_id, run_id):
                yield from _whole_lines(file, last=True)
                return
            time.sleep(FOLLOW_POLL_SECONDS)


def _whole_lines(file: IO[bytes], last: bool = False) -> Iterator[bytes]:
    while line := file.readline():
        if not line.endswith(b"\n") and not last:
            file.seek(-len(line), 1)  # being written: read it whole next time
            return
        if line.strip():
            yield line


def _is_running(store: StateStore, state_id: str, run_id: str) -> bool:
    runs = [run for run in store.list_runs(20, state_id) if run.run_id == run_id]
    return bool(runs) and runs[0].status == "running"
