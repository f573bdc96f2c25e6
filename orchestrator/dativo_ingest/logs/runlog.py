"""One log file per run, ``$DATIVO_HOME/logs/<tenant>/<job>/<run_id>.log``: every record of the
run as a JSON line (dativo's and both connectors', secrets masked), and its retention."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from dativo_ingest.exceptions import ConfigurationError
from dativo_ingest.logs import CONTEXT, ROOT_LOGGER
from dativo_ingest.logs.formats import JsonFormatter

DEFAULT_RETENTION_DAYS = 30.0
RETENTION_ENV = "DATIVO_LOG_RETENTION_DAYS"
PRUNE_EVERY_SECONDS = 3600.0
PRUNED_STAMP = ".pruned"


def logs_root(home: Path) -> Path:
    return home / "logs"


def run_log_path(home: Path, state_id: str, run_id: str) -> Path:
    """Where a run's log goes: the state id ``tenant/job`` names the folders."""
    return logs_root(home) / state_id / f"{run_id}.log"


def retention_days() -> float:
    """Days a run's log is kept: ``$DATIVO_LOG_RETENTION_DAYS`` (0 keeps logs forever)."""
    raw = os.environ.get(RETENTION_ENV)
    if not raw:
        return DEFAULT_RETENTION_DAYS
    try:
        days = float(raw)
    except ValueError:
        raise ConfigurationError(f"{RETENTION_ENV}={raw!r} is not a number of days") from None
    if days < 0:
        raise ConfigurationError(f"{RETENTION_ENV}={raw!r}: days cannot be negative")
    return days


def prune_logs(root: Path, days: float, now: float | None = None) -> list[Path]:
    """Remove run logs last written more than ``days`` ago (none if ``days`` is 0).

    Every run calls this, and a pass stats every log; so a pass is skipped while its cutoff
    is within ``PRUNE_EVERY_SECONDS`` of the last pass's (kept as the mtime of
    ``root/.pruned``): a log may outlive its retention by up to that much."""
    if days <= 0 or not root.is_dir():
        return []
    cutoff = (time.time() if now is None else now) - days * 86400
    stamp = root / PRUNED_STAMP
    with contextlib.suppress(FileNotFoundError):
        if cutoff - stamp.stat().st_mtime < PRUNE_EVERY_SECONDS:
            return []
    removed = []
    for path in root.glob("*/*/*.log"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path)
        except FileNotFoundError:  # another run pruned it first
            continue
    stamp.touch()
    os.utime(stamp, (cutoff, cutoff))
    return removed


class RunLog:
    """Attaches a JSON-lines file handler to dativo's log for the length of one run, and sets
    the run context (ids, secret masking) on every handler."""

    def __init__(
        self, path: Path, run_id: str, state_id: str, redact: Callable[[str], str]
    ) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.handler = logging.StreamHandler(os.fdopen(fd, "a", encoding="utf-8"))
        self.handler.setLevel(logging.DEBUG)
        self.handler.setFormatter(JsonFormatter())
        self.handler.addFilter(CONTEXT)
        CONTEXT.enter(run_id, state_id, redact)
        logging.getLogger(ROOT_LOGGER).addHandler(self.handler)

    def close(self, final_error: str | None = None) -> None:
        """Write the run's error (already shown by the CLI, so only here), then detach."""
        if final_error:
            record = logging.LogRecord(
                f"{ROOT_LOGGER}.run", logging.ERROR, __file__, 0, final_error, None, None
            )
            self.handler.handle(record)
        logging.getLogger(ROOT_LOGGER).removeHandler(self.handler)
        self.handler.close()
        CONTEXT.leave()


def read_entries(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a run log; a line that is not a JSON object (a torn last line) is
    returned as a plain message."""
    with open(path, "rb") as file:
        yield from (parse_entry(line) for line in file if line.strip())


def parse_entry(line: bytes) -> dict[str, Any]:
    try:
        entry = orjson.loads(line)
    except orjson.JSONDecodeError:
        entry = None
    if isinstance(entry, dict):
        return entry
    return {"level": "INFO", "message": line.decode(errors="replace").rstrip("\n")}
