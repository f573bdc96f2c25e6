"""CPU cost of the pieces of issue 17 measured alone: one redraw of the live progress table,
and reading the level of a connector's stderr line. The whole-run figure is relay_bench.py's
``--baseline-dativo``/``--tty`` arms; see bench/results/progress-logs.md.

Usage: .venv/bin/python bench/log_progress_bench.py [--redraws 400] [--lines 100000]
"""

from __future__ import annotations

import argparse
import io
import os
import time

from dativo_ingest.pipeline.progress import RunProgress
from dativo_ingest.pipeline.stderr import StderrTail

LINES = [
    "2024-05-01 10:00:00,123 | INFO     | tap-github.issues    | Beginning sync of 'issues'",
    "2024-05-01 10:00:00,124 | INFO     | singer_sdk.metrics   | METRIC: "
    '{"type":"counter","metric":"record_count","value":100,"tags":{"stream":"users"}}',
    "time=2024-05-01 name=target_postgres level=WARNING message=Column added",
    "a line naming no level",
]


class _Terminal(io.TextIOWrapper):
    """/dev/null that says it is a terminal, so the live table is drawn."""

    def isatty(self) -> bool:
        return True


def redraw_seconds(redraws: int) -> float:
    """CPU seconds per redraw of the live table (two streams)."""
    terminal = _Terminal(open(os.devnull, "wb"), write_through=True)  # noqa: SIM115
    progress = RunProgress(
        lambda: (1_234_567, 300_000_000),
        lambda: {"users": 500_000, "orders": 734_567},
        lambda: 12,
        stream=terminal,
    )
    progress.start()
    assert progress.live is not None
    live = progress.live.live
    live.console.force_terminal = True
    started = time.process_time()
    for _ in range(redraws):
        live.refresh()
    spent = time.process_time() - started
    progress.stop()
    terminal.close()
    return spent / redraws


def line_seconds(count: int) -> float:
    """CPU seconds to read the level of one stderr line (METRIC lines parsed too)."""
    lines = (LINES * (count // len(LINES) + 1))[:count]
    tail = StderrTail("tap", lambda text: text)
    started = time.process_time()
    for _ in tail.messages(iter(lines)):
        pass
    return (time.process_time() - started) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redraws", type=int, default=400)
    parser.add_argument("--lines", type=int, default=100_000)
    args = parser.parse_args()
    redraw = redraw_seconds(args.redraws)
    print(f"live table: {redraw * 1e3:.2f} ms CPU per redraw, {redraw * 2 * 100:.2f}% of a core")
    print(f"stderr level: {line_seconds(args.lines) * 1e6:.2f} us CPU per line")


if __name__ == "__main__":
    main()
