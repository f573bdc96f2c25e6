"""One exception tree for the orchestrator, layered by what the caller can do.

Every error carries the exit code the CLI maps it to. The connectors' own errors (the
connector guide's ``ConnectionError``, ``AuthenticationError``, ``TransientError``) are
``dativo_connector_kit``'s; a connector reports them through its exit code.
"""

from __future__ import annotations

from collections.abc import Sequence


class DativoError(Exception):
    """Root of every error dativo raises on purpose."""

    exit_code = 1


class ConfigurationError(DativoError):
    """The user's input is wrong; nothing was started. Fix the input and rerun."""

    exit_code = 2


class JobFileError(ConfigurationError):
    """A job file is invalid. Carries every problem found, each with its key path."""

    def __init__(self, path: str, problems: Sequence[tuple[str, str]]) -> None:
        self.path = path
        self.problems = list(problems)
        lines = [
            f"{path}: {where}: {reason}" if where else f"{path}: {reason}"
            for where, reason in self.problems
        ]
        super().__init__("invalid job file\n  " + "\n  ".join(lines))


class JobLockedError(DativoError):
    """Another run of the same job holds its lock. Wait for it, or stop it."""

    exit_code = 3


class StateStoreError(DativoError):
    """The state store cannot be read or written."""


class RunFailedError(DativoError):
    """A connector failed; the message names it and shows the tail of its stderr."""

    def __init__(self, message: str, connector: str | None = None) -> None:
        self.connector = connector
        super().__init__(message)


class RunInterruptedError(DativoError):
    """The run was stopped by a signal; confirmed states were kept."""

    def __init__(self, signal_number: int) -> None:
        self.signal_number = signal_number
        self.exit_code = 128 + signal_number
        super().__init__(f"interrupted by signal {signal_number}; confirmed states were kept")
