"""How a log record is written: text for people, JSON lines for log shippers and the run log,
and the run context (ids, secret masking) stamped on every record."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson

LEVELS = {
    "TRACE": logging.DEBUG,
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "NOTICE": logging.INFO,
    "WARN": logging.WARNING,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
    "EXCEPTION": logging.ERROR,
    "CRITICAL": logging.CRITICAL,
    "FATAL": logging.CRITICAL,
}
_FIELDS = ("run_id", "state_id", "side", "connector")


class RunContext(logging.Filter):
    """A handler filter: stamps the current run's ids on each record and masks secrets in its
    message. One run per dativo process, so the context is process-wide."""

    def __init__(self) -> None:
        super().__init__()
        self.run_id: str | None = None
        self.state_id: str | None = None
        self.redact: Callable[[str], str] | None = None

    def enter(self, run_id: str, state_id: str, redact: Callable[[str], str]) -> None:
        self.run_id, self.state_id, self.redact = run_id, state_id, redact

    def leave(self) -> None:
        self.run_id = self.state_id = self.redact = None

    def filter(self, record: logging.LogRecord) -> bool:
        if self.run_id is not None and not hasattr(record, "run_id"):
            record.run_id, record.state_id = self.run_id, self.state_id
        if self.redact is not None and not getattr(record, "redacted", False):
            record.msg, record.args = self.redact(record.getMessage()), ()
            record.redacted = True
        return True


class TextFormatter(logging.Formatter):
    """``12:00:01 WARNING [tap-x] message``; every line of a multi-line message is prefixed."""

    def format(self, record: logging.LogRecord) -> str:
        return render_text(
            self.formatTime(record, "%H:%M:%S"),
            record.levelname,
            getattr(record, "connector", None),
            record.getMessage(),
        )


def render_text(time: str, level: str, connector: str | None, message: str) -> str:
    prefix = f"{time} {level:<7} " + (f"[{connector}] " if connector else "")
    return "\n".join(prefix + line for line in message.split("\n"))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, run_id, state_id, side, connector,
    message, and ``progress`` figures on progress lines."""

    def format(self, record: logging.LogRecord) -> str:
        return orjson.dumps(json_fields(record)).decode()


def json_fields(record: logging.LogRecord) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname,
        "logger": record.name,
    }
    for name in _FIELDS:
        fields[name] = getattr(record, name, None)
    fields["message"] = record.getMessage()
    progress = getattr(record, "progress", None)
    if progress is not None:
        fields["progress"] = progress
    return fields


FORMATTERS: dict[str, type[logging.Formatter]] = {"text": TextFormatter, "json": JsonFormatter}
