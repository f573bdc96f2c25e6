"""A connector's stderr: each line's level read and logged under the connector's side, Python
tracebacks kept whole, singer-sdk METRIC lines counted instead of shown, the tail kept for
error reports."""

from __future__ import annotations

import logging
import re
from collections import Counter, deque
from collections.abc import Callable, Iterator
from typing import IO

import orjson

from dativo_ingest.logs import LEVELS, connector_log
from dativo_ingest.pipeline.lines import bounded_lines
from dativo_ingest.protocol.singer import parse_metric

TAIL_LINES = 50
MAX_LOG_LINE = 64 << 10
MAX_TRACEBACK_LINES = 400
_LEVEL_WORDS = "|".join(LEVELS)
# [time] [|] LEVEL [|:-] message: singer-sdk's "2024-01-02 03:04:05,678 | INFO | tap | msg",
# Python's "INFO:name:msg", dativo's "03:04:05 INFO    msg", "[WARN] msg", "level=info msg"
_PREFIX = re.compile(
    r"(?:\[?(?:\d{4}-\d\d-\d\d[T ])?\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\]?\s*"
    r"(?:\|\s*)?)?(?:level=)?\[?(" + _LEVEL_WORDS + r")\]?(?![\w.=-])[\s|:-]*",
    re.IGNORECASE,
)
_LOGFMT_LEVEL = re.compile(r"(?:^|\s)level=\"?(\w+)", re.IGNORECASE)
_LOGFMT_MESSAGE = re.compile(r"(?:^|\s)(?:message|msg)=(.*)$")
_METRIC = "METRIC: "
_TRACEBACK = "Traceback (most recent call last):"
_PADDED_NAME = re.compile(r"^([\w.-]+) {2,}\| ")  # singer-sdk pads the logger name


def read_level(line: str) -> tuple[int | None, str]:
    """``(level, message)`` of one stderr line; level None when the line names none."""
    if line.startswith("{") and '"LOG"' in line:
        airbyte = _airbyte_log(line)
        if airbyte is not None:
            return airbyte
    if (match := _PREFIX.match(line)) is not None:
        return LEVELS[match.group(1).upper()], _PADDED_NAME.sub(r"\1 | ", line[match.end() :], 1)
    if line.startswith("time=") or " level=" in line:
        level = _LOGFMT_LEVEL.search(line)
        if level is not None and level.group(1).upper() in LEVELS:
            message = _LOGFMT_MESSAGE.search(line)
            return LEVELS[level.group(1).upper()], message.group(1) if message else line
    return None, line


def _airbyte_log(line: str) -> tuple[int, str] | None:
    """An Airbyte LOG message written on stderr (some CDK versions do)."""
    try:
        message = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(message, dict) or message.get("type") != "LOG":
        return None
    entry = message.get("log")
    if not isinstance(entry, dict):
        return None
    level = LEVELS.get(str(entry.get("level")).upper(), logging.INFO)
    return level, str(entry.get("message", ""))


class StderrTail:
    """Consumer of one connector's stderr: logged with the connector's name and side at the
    level each line names, tail kept, singer-sdk ``record_count`` metrics summed per stream."""

    def __init__(self, connector: str, redact: Callable[[str], str], side: str = "source") -> None:
        self.connector = connector
        self.redact = redact
        self.side = side
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.records_per_stream: Counter[str] = Counter()
        self._level = logging.INFO  # a line naming no level continues the one before it

    def consume(self, stream: IO[bytes]) -> None:
        """Read ``stream`` to EOF (run in its own thread)."""
        for level, message in self.messages(self._lines(stream)):
            connector_log(self.side, self.connector, level, message)

    def _lines(self, stream: IO[bytes]) -> Iterator[str]:
        for raw, dropped in bounded_lines(stream, MAX_LOG_LINE):
            text = self.redact(raw.decode(errors="replace").rstrip())
            if dropped:
                text += f" [... {dropped} more bytes]"
            self.tail.append(text)
            yield text

    def messages(self, lines: Iterator[str]) -> Iterator[tuple[int, str]]:
        """``(level, message)`` per log message: a traceback is one ERROR message, a METRIC
        line is counted and kept at DEBUG."""
        traceback: list[str] = []
        for line in lines:
            if traceback:
                traceback.append(line)
                if not line[:1].isspace() or len(traceback) >= MAX_TRACEBACK_LINES:
                    yield logging.ERROR, "\n".join(traceback)
                    traceback = []
                continue
            if line.startswith(_TRACEBACK):
                traceback = [line]
                self._level = logging.INFO  # what follows a whole traceback starts afresh
                continue
            level, message = read_level(line)
            if level is not None:
                self._level = level
            if _METRIC in message:
                if (metric := parse_metric(message)) is not None:
                    self.records_per_stream[metric[0]] += metric[1]
                yield logging.DEBUG, message
                continue
            yield self._level, message
        if traceback:
            yield logging.ERROR, "\n".join(traceback)

    def report(self) -> str:
        """The kept tail, ready to append to an error message."""
        if not self.tail:
            return f"{self.connector} wrote nothing on stderr"
        lines = "\n".join(f"  {line}" for line in self.tail)
        return f"last {len(self.tail)} lines of {self.connector} stderr:\n{lines}"
