"""Errors of the target beyond the kit's: bad input, named by its line."""

from __future__ import annotations

from dativo_connector_kit import ConnectorError


class InputError(ConnectorError):
    """A line of input is not a usable Singer message, or its record does not fit (exit 1)."""

    def __init__(self, line_number: int, problem: str) -> None:
        """Name the input line (1-based) and what is wrong with it."""
        super().__init__(f"input line {line_number}: {problem}")
        self.line_number = line_number
        self.problem = problem
