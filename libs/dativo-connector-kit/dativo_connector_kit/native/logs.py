"""Logging of native connectors: ``time LEVEL name: message`` lines on stderr (stdout carries
the Singer messages), which dativo reads each line's level from. The level is the one dativo
asks for in ``DATIVO_LOG_LEVEL`` (INFO when unset)."""

from __future__ import annotations

import logging
import os
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging() -> None:
    """Send every logger's records (the connector's and its libraries') to stderr, once, at
    ``DATIVO_LOG_LEVEL``."""
    level = os.environ.get("DATIVO_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(level=level, format=FORMAT, stream=sys.stderr)


def get_logger(name: str) -> logging.Logger:
    """The logger ``name``; its records reach stderr (logging is configured on first use)."""
    configure_logging()
    return logging.getLogger(name)
