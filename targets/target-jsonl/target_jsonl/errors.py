"""The target's exception tree: each error carries the exit status it ends the process with."""

from __future__ import annotations


class TargetError(Exception):
    """Root of every error the target reports instead of a traceback."""

    exit_code = 1


class ConfigError(TargetError):
    """The configuration is unusable; nothing has been read or written."""

    exit_code = 2


class InputError(TargetError):
    """A line of input is not a usable Singer message."""

    def __init__(self, line_number: int, problem: str) -> None:
        """Name the input line (1-based) and what is wrong with it."""
        super().__init__(f"input line {line_number}: {problem}")
        self.line_number = line_number
