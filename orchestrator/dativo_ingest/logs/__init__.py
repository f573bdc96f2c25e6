"""dativo's log: one terminal handler (text or JSON lines), connector lines tagged with their
side, and while a run lasts, its run id, state id and secret masking on every record."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TextIO

from dativo_ingest.logs.formats import FORMATTERS, LEVELS, RunContext

ROOT_LOGGER = "dativo"
CONNECTOR_LOGGER = f"{ROOT_LOGGER}.connector"
CONTEXT = RunContext()

__all__ = [
    "CONNECTOR_LOGGER",
    "CONTEXT",
    "LEVELS",
    "configure_logging",
    "connector_level",
    "connector_log",
    "get_logger",
    "set_terminal_stream",
    "terminal_format",
]


def get_logger(name: str) -> logging.Logger:
    """Return a logger under dativo's root logger (``dativo_ingest.x`` -> ``dativo.x``)."""
    suffix = name.removeprefix("dativo_ingest").lstrip(".")
    return logging.getLogger(f"{ROOT_LOGGER}.{suffix}" if suffix else ROOT_LOGGER)


_connector_logger = logging.getLogger(CONNECTOR_LOGGER)


def connector_log(side: str, connector: str, level: int, message: str) -> None:
    """Log a line a connector wrote, tagged with its side (``source``/``target``) and name."""
    if _connector_logger.isEnabledFor(level):
        _connector_logger.log(level, "%s", message, extra={"side": side, "connector": connector})


class _QuietConnectors(logging.Filter):
    """Keeps connectors' records below ``level`` off the terminal (they stay in the run log)."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "side", None) is None or record.levelno >= self.level


_terminal: logging.StreamHandler[TextIO] | None = None


def configure_logging(level: str = "INFO", log_format: str = "text", verbose: int = 0) -> None:
    """Send dativo's log to stderr at ``level``, as ``text`` or ``json`` lines. Connectors'
    lines below WARNING are shown only with ``verbose`` (then from ``level``, at most INFO);
    they always reach the run's log file.
    Calling it again replaces the terminal handler."""
    global _terminal
    root = logging.getLogger(ROOT_LOGGER)
    root.setLevel(logging.DEBUG)  # handlers choose: the run log keeps everything
    root.propagate = False
    if _terminal is not None:
        root.removeHandler(_terminal)
    _terminal = logging.StreamHandler(sys.stderr)
    _terminal.setLevel(level.upper())
    _terminal.setFormatter(FORMATTERS[log_format]())
    _terminal.addFilter(CONTEXT)
    shown = min(_terminal.level, logging.INFO) if verbose else logging.WARNING
    _terminal.addFilter(_QuietConnectors(shown))
    root.addHandler(_terminal)


def connector_level() -> str:
    """The level connectors are asked to log at (``DATIVO_LOG_LEVEL``): the terminal's, but
    never above INFO (the run's log keeps connectors' INFO lines)."""
    level = logging.INFO if _terminal is None else min(_terminal.level, logging.INFO)
    return logging.getLevelName(level)


def terminal_format() -> str | None:
    """``text`` or ``json``: how the terminal handler writes (None before configuration)."""
    if _terminal is None:
        return None
    return "json" if isinstance(_terminal.formatter, FORMATTERS["json"]) else "text"


def set_terminal_stream(stream: TextIO) -> Callable[[], None]:
    """Point the terminal handler at ``stream`` (a live display's proxy); returns the undo."""
    handler = _terminal
    if handler is None:
        return lambda: None
    previous = handler.setStream(stream)

    def undo() -> None:
        if previous is not None:
            handler.setStream(previous)

    return undo
