"""``dativo runs``: run history, latest first."""

from __future__ import annotations

import argparse
import sys

import orjson

from dativo_ingest.cli.project_args import current_project
from dativo_ingest.pipeline.progress import human_bytes
from dativo_ingest.state import RunRecord, open_store

_COLUMNS = (
    "RUN",
    "STATE ID",
    "STARTED",
    "DURATION",
    "STATUS",
    "TRY",
    "EXIT",
    "RECORDS",
    "BYTES",
    "PEAK MEM SRC/TGT",
    "WORKER",
    "ERROR",
)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("runs", help="list runs, latest first")
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.add_argument("--limit", type=int, default=20, help="at most N runs (default: 20)")
    parser.add_argument("--state-id", help="only runs of this job (<tenant_id>/<name>)")
    parser.set_defaults(handler=show_runs)


def show_runs(args: argparse.Namespace) -> int:
    store = open_store(current_project(args).home)
    try:
        store.mark_abandoned_runs()
        runs = store.list_runs(args.limit, args.state_id)
    finally:
        store.close()
    if args.json:
        payload = [run.to_dict() for run in runs]
        sys.stdout.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    rows = [_COLUMNS, *(_row(run) for run in runs)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]).rstrip())
    return 0


def _row(run: RunRecord) -> tuple[str, ...]:
    error = (run.error or "").splitlines()[0] if run.error else ""
    if run.retry_reason and not error:
        error = f"retry after: {run.retry_reason}"
    exits = f"{_code(run.source_exit)}/{_code(run.target_exit)}"
    duration = f"{run.duration_s:.2f}s" if run.duration_s is not None else "-"
    return (
        run.run_id,
        run.state_id,
        run.started_at[:19].replace("T", " "),
        duration,
        run.status,
        str(run.attempt),
        exits,
        f"{run.records:,}",
        human_bytes(run.bytes),
        _memory(run),
        run.worker or "-",
        error[:80],
    )


def _memory(run: RunRecord) -> str:
    peaks = [(run.resources.get(side) or {}).get("peak_rss_bytes") for side in ("source", "target")]
    return "/".join(human_bytes(p) if p else "-" for p in peaks)


def _code(code: int | None) -> str:
    return "-" if code is None else str(code)
