"""Forwards a connector's stderr to dativo's log and keeps its tail for error reports."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from typing import IO

from dativo_ingest.logging import get_logger
from dativo_ingest.pipeline.lines import bounded_lines
from dativo_ingest.protocol.singer import parse_metric

TAIL_LINES = 50
MAX_LOG_LINE = 64 << 10
log = get_logger("connector")


class StderrTail:
    """Consumer of one connector's stderr: logged with the connector's name, tail kept,
    singer-sdk ``record_count`` metrics summed per stream."""

    def __init__(self, connector: str, redact: Callable[[str], str]) -> None:
        self.connector = connector
        self.redact = redact
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.records_per_stream: Counter[str] = Counter()

    def consume(self, stream: IO[bytes]) -> None:
        """Read ``stream`` to EOF (run in its own thread)."""
        for raw, dropped in bounded_lines(stream, MAX_LOG_LINE):
            text = self.redact(raw.decode(errors="replace").rstrip())
            if dropped:
                text += f" [... {dropped} more bytes]"
            self.tail.append(text)
            log.info("[%s] %s", self.connector, text)
            if (metric := parse_metric(text)) is not None:
                self.records_per_stream[metric[0]] += metric[1]

    def report(self) -> str:
        """The kept tail, ready to append to an error message."""
        if not self.tail:
            return f"{self.connector} wrote nothing on stderr"
        lines = "\n".join(f"  {line}" for line in self.tail)
        return f"last {len(self.tail)} lines of {self.connector} stderr:\n{lines}"
