"""Errors the target raises on purpose, on top of the connector kit's tree (exit codes)."""

from __future__ import annotations

from dativo_connector_kit import ConnectorError


class InputError(ConnectorError):
    """A line of input is not a usable Singer message (exit 1)."""

    def __init__(self, line_number: int, problem: str) -> None:
        """Name the input line (1-based) and what is wrong with it."""
        super().__init__(f"input line {line_number}: {problem}")
        self.line_number = line_number


class LoadError(ConnectorError):
    """Postgres refused a batch, or a table cannot take the stream's schema (exit 1).

    The batch's transaction was rolled back; every earlier batch stays committed.
    """
