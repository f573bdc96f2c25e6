"""What the pages show, read through the ``StateStore`` interface: jobs with their recent
runs, one run, states with secret-looking values masked, and sparklines as inline SVG."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from dativo_ingest.config.secrets import Redactor, secret_values
from dativo_ingest.logs.runlog import read_entries
from dativo_ingest.state import RunRecord, StateStore, StoredState

RECENT_RUNS = 50
HISTORY_LIMIT = 2000
LOG_ENTRIES = 1000


@dataclass(frozen=True)
class JobSummary:
    state_id: str
    runs: list[RunRecord]  # latest first, at most RECENT_RUNS
    state: StoredState | None

    @property
    def last(self) -> RunRecord | None:
        return self.runs[0] if self.runs else None

    def sparkline(self, figure: str) -> str:
        """The ``records`` or ``duration_s`` of the recent runs, oldest first, as an SVG."""
        return sparkline([float(getattr(run, figure) or 0) for run in reversed(self.runs)])


def jobs(store: StateStore) -> list[JobSummary]:
    """Every job with a run or a state, most recently run first."""
    by_job: dict[str, list[RunRecord]] = defaultdict(list)
    for run in store.list_runs(HISTORY_LIMIT):
        if len(by_job[run.state_id]) < RECENT_RUNS:
            by_job[run.state_id].append(run)
    states = {state.state_id: state for state in store.list_states()}
    summaries = [JobSummary(sid, by_job.get(sid, []), states.get(sid)) for sid in by_job | states]
    return sorted(summaries, key=lambda job: job.last.started_at if job.last else "", reverse=True)


def job(store: StateStore, state_id: str) -> JobSummary:
    return JobSummary(state_id, store.list_runs(RECENT_RUNS, state_id), store.get_state(state_id))


def find_run(store: StateStore, state_id: str, run_id: str) -> RunRecord | None:
    return next((r for r in store.list_runs(HISTORY_LIMIT, state_id) if r.run_id == run_id), None)


def state_json(state: StoredState) -> str:
    """The state, indented, with values under secret-looking keys masked."""
    text = orjson.dumps(state.value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    return Redactor(secret_values(state.value))(text)


def log_entries(run: RunRecord) -> list[dict[str, Any]]:
    """The last LOG_ENTRIES records of the run's log (already redacted when written)."""
    if not run.log_path or not Path(run.log_path).is_file():
        return []
    entries: list[dict[str, Any]] = []
    for entry in read_entries(Path(run.log_path)):
        entries.append(entry)
        if len(entries) > 2 * LOG_ENTRIES:
            del entries[:LOG_ENTRIES]
    return entries[-LOG_ENTRIES:]


def sparkline(values: list[float], width: int = 160, height: int = 28) -> str:
    """An inline SVG polyline of ``values`` scaled to the box; empty for no values."""
    if not values:
        return ""
    top = max(values) or 1.0
    step = width / max(len(values) - 1, 1)
    xy = [(i * step, height - 3 - (v / top) * (height - 6)) for i, v in enumerate(values)]
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    last_x, last_y = xy[-1]
    return (
        f'<svg class="spark" width="{width}" height="{height}" viewBox="-3 0 {width + 6} '
        f'{height}" role="img"><polyline fill="none" stroke="currentColor" stroke-width="1.5" '
        f'points="{points}"/><circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="2.5" '
        f'fill="currentColor"/></svg>'
    )
