"""A live one-line progress display on a terminal, and human-readable figures."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TextIO

from dativo_ingest.state.store import RunRecord


def human_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def resource_summary(record: RunRecord) -> str:
    """``tap-x 41.2 MB peak, 0.52s CPU; target-y ...`` from a run's resource figures."""
    parts = []
    for figures in record.resources.values():
        peak, cpu = figures.get("peak_rss_bytes"), figures.get("cpu_s")
        memory = human_bytes(peak) + " peak" if peak else "memory n/a"
        processor = f"{cpu:.2f}s CPU" if cpu is not None else "CPU n/a"
        parts.append(f"{figures.get('connector')} {memory}, {processor}")
    return "; ".join(parts)


PROGRESS_FILE_VARIABLE = "DATIVO_PROGRESS_FILE"


class ProgressLine:
    """Redraws ``records, records/s, bytes, elapsed`` in place when ``stream`` is a terminal.

    With ``$DATIVO_PROGRESS_FILE`` set, the figures also replace that file's content as
    ``{"records": N, "bytes": N}`` (a worker reads it to heartbeat the run's progress).
    """

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.started = time.monotonic()
        self.report_to = os.environ.get(PROGRESS_FILE_VARIABLE)

    def update(self, records: int, byte_count: int) -> None:
        self.report(records, byte_count)
        if not self.enabled:
            return
        elapsed = max(time.monotonic() - self.started, 1e-9)
        self.stream.write(
            f"\r\x1b[K{records:,} records  {records / elapsed:,.0f} rec/s  "
            f"{human_bytes(byte_count)}  {elapsed:.1f}s"
        )
        self.stream.flush()

    def report(self, records: int, byte_count: int) -> None:
        """Replace the progress file's figures (when there is one)."""
        if self.report_to:
            _replace(self.report_to, f'{{"records": {records}, "bytes": {byte_count}}}')

    def clear(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _replace(path: str, text: str) -> None:
    """Write ``text`` to ``path`` at once (readers never see half of it)."""
    partial = f"{path}.part"
    with open(partial, "w") as out:
        out.write(text)
    Path(partial).replace(path)
