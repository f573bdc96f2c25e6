"""A live one-line progress display on a terminal, and human-readable figures."""

from __future__ import annotations

import sys
import time
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


class ProgressLine:
    """Redraws ``records, records/s, bytes, elapsed`` in place when ``stream`` is a terminal."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.started = time.monotonic()

    def update(self, records: int, byte_count: int) -> None:
        if not self.enabled:
            return
        elapsed = max(time.monotonic() - self.started, 1e-9)
        self.stream.write(
            f"\r\x1b[K{records:,} records  {records / elapsed:,.0f} rec/s  "
            f"{human_bytes(byte_count)}  {elapsed:.1f}s"
        )
        self.stream.flush()

    def clear(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
