"""Logging of native connectors: ``time LEVEL name: message`` lines on stderr (stdout carries
the Singer messages), which dativo reads each line's level from."""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: int = logging.INFO) -> None:
    """Send every logger's records (the connector's and its libraries') to stderr, once."""
    logging.basicConfig(level=level, format=FORMAT, stream=sys.stderr)


def get_logger(name: str) -> logging.Logger:
    """The logger ``name``; its records reach stderr (logging is configured on first use)."""
    configure_logging()
    return logging.getLogger(name)
