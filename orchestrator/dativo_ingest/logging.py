"""Logging for dativo and the connectors it runs: one stderr handler, one format."""

from __future__ import annotations

import logging
import sys

ROOT_LOGGER = "dativo"
_FORMAT = "%(asctime)s %(levelname)-7s %(message)s"


def get_logger(name: str) -> logging.Logger:
    """Return a logger under dativo's root logger (``dativo_ingest.x`` -> ``dativo.x``)."""
    suffix = name.removeprefix("dativo_ingest").lstrip(".")
    return logging.getLogger(f"{ROOT_LOGGER}.{suffix}" if suffix else ROOT_LOGGER)


def configure_logging(level: str = "INFO") -> None:
    """Send dativo's log to stderr at ``level``; idempotent."""
    root = logging.getLogger(ROOT_LOGGER)
    root.setLevel(level.upper())
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_FORMAT, datefmt="%H:%M:%S"))
        root.addHandler(handler)
    root.propagate = False
