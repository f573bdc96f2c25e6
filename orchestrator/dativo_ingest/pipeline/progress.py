"""Live progress of a run: a table per stream on a terminal (rich), a log line every few
seconds otherwise, and human-readable figures."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

from dativo_ingest.logs import get_logger, set_terminal_stream, terminal_format
from dativo_ingest.protocol.counter import StreamCounter
from dativo_ingest.state.store import RunRecord

DEFAULT_PROGRESS_SECONDS = 30.0
PROGRESS_FILE_VARIABLE = "DATIVO_PROGRESS_FILE"
_REPORT_SECONDS = 1.0  # how often the progress file is rewritten
log = get_logger("progress")


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


def stream_counts(counter: StreamCounter, reported: Mapping[str, int]) -> dict[str, int]:
    """Records per stream: counted in the relay when it splits streams (translation), else as
    the source reports them (singer-sdk METRIC lines, Airbyte ``sourceStats``)."""
    return dict(counter.per_stream or reported)


class RunProgress:
    """Shows a run's figures while it lasts: a live table on a terminal (redrawn twice a
    second), otherwise a log line every ``interval`` seconds (on a terminal those lines still
    reach the run log, at DEBUG). It reads the relay's counters from its own thread, so the
    relay does no work for it.

    With ``$DATIVO_PROGRESS_FILE`` set, the figures also replace that file's content every
    second as ``{"records": N, "bytes": N}`` (a worker reads it to heartbeat the run)."""

    def __init__(
        self,
        counters: Callable[[], tuple[int, int]],
        streams: Callable[[], Mapping[str, int]],
        confirmed: Callable[[], int],
        interval: float = DEFAULT_PROGRESS_SECONDS,
        stream: TextIO | None = None,
    ) -> None:
        self.counters, self.streams, self.confirmed = counters, streams, confirmed
        self.interval, self.stream = interval, stream or sys.stderr
        self.started = time.monotonic()
        self.live: _LiveTable | None = None
        self._stopped = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)

    def start(self) -> None:
        """Start the clock, the live table (on a terminal) and the periodic lines."""
        self.started = time.monotonic()
        if _is_terminal(self.stream):
            self.live = _LiveTable(self, self.stream)
        self._ticker.start()

    @property
    def elapsed(self) -> float:
        return max(time.monotonic() - self.started, 1e-9)

    def _tick(self) -> None:
        report_to = os.environ.get(PROGRESS_FILE_VARIABLE)
        step = min(self.interval, _REPORT_SECONDS) if report_to else self.interval
        next_line = self.interval
        while not self._stopped.wait(step):
            if report_to:
                report(report_to, *self.counters())
            if self.elapsed >= next_line:
                self._log_line()
                next_line += self.interval

    def _log_line(self) -> None:
        (records, byte_count), elapsed = self.counters(), self.elapsed
        streams, confirmed = dict(self.streams()), self.confirmed()
        per_stream = ", ".join(f"{name}={count:,}" for name, count in sorted(streams.items()))
        figures = {
            "records": records,
            "records_per_s": round(records / elapsed, 1),
            "bytes": byte_count,
            "elapsed_s": round(elapsed, 1),
            "states_confirmed": confirmed,
            "streams": streams,
        }
        log.log(
            logging.DEBUG if self.live else logging.INFO,
            "progress: %s records (%s/s), %s, %.0fs%s; %d state(s) confirmed",
            f"{records:,}",
            f"{records / elapsed:,.0f}",
            human_bytes(byte_count),
            elapsed,
            f" ({per_stream})" if per_stream else "",
            confirmed,
            extra={"progress": figures},
        )

    def stop(self) -> None:
        """End the periodic lines and remove the live table; idempotent."""
        self._stopped.set()
        if self._ticker.is_alive():
            self._ticker.join(1.0)
        if self.live is not None:
            self.live.stop()


def report(path: str | None, records: int, byte_count: int) -> None:
    """Replace the progress file's figures at once (readers never see half of them)."""
    if path:
        partial = f"{path}.part"
        Path(partial).write_text(f'{{"records": {records}, "bytes": {byte_count}}}')
        Path(partial).replace(path)


def _is_terminal(stream: TextIO) -> bool:
    return stream.isatty() and terminal_format() != "json"


class _LiveTable:
    """A rich table of the run's figures, redrawn in place by rich's own thread; dativo's log
    lines print above it meanwhile."""

    def __init__(self, progress: RunProgress, stream: TextIO) -> None:
        from rich.console import Console
        from rich.file_proxy import FileProxy
        from rich.live import Live

        self.progress = progress
        self.previous: dict[str, tuple[float, int]] = {}
        console = Console(file=stream)
        self.live = Live(self, console=console, refresh_per_second=2, transient=True)
        self.live.start()
        self.restore_log = set_terminal_stream(FileProxy(console, stream))  # type: ignore[arg-type]

    def __rich__(self) -> Any:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        progress = self.progress
        (records, byte_count), elapsed = progress.counters(), progress.elapsed
        table = Table(box=None)
        for column in ("stream", "records", "records/s", "bytes", "elapsed"):
            table.add_column(column, justify="left" if column == "stream" else "right")
        for name, count in sorted(progress.streams().items()):
            table.add_row(name, f"{count:,}", f"{self._rate(name, count, elapsed):,.0f}")
        table.add_row(
            Text("all streams", style="bold"),
            f"{records:,}",
            f"{self._rate('', records, elapsed):,.0f}",
            human_bytes(byte_count),
            f"{elapsed:.1f}s",
        )
        confirmed = Text(f"{progress.confirmed()} state(s) confirmed by the target", "dim")
        return Group(table, confirmed)

    def _rate(self, name: str, count: int, elapsed: float) -> float:
        """Records/s since the last redraw (the average on the first one)."""
        before_at, before = self.previous.get(name, (0.0, 0))
        self.previous[name] = (elapsed, count)
        return (count - before) / max(elapsed - before_at, 1e-9)

    def stop(self) -> None:
        self.live.stop()
        self.restore_log()
