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


class StateFencedError(StateStoreError):
    """A run wrote state after another run took its job's lock: the write was refused."""

    def __init__(self, state_id: str, run_id: str, holder_run_id: str | None) -> None:
        self.state_id, self.run_id, self.holder_run_id = state_id, run_id, holder_run_id
        holder = f"run {holder_run_id} holds it now" if holder_run_id else "nobody holds it now"
        super().__init__(
            f"state write of run {run_id} refused: it no longer holds the lock of job"
            f" {state_id} ({holder}); the stored state was left as it was"
        )


class RunFailedError(DativoError):
    """A connector failed; the message names it and shows the tail of its stderr.

    ``transient`` says why the failure may go away on its own (a job's ``retry`` reruns it),
    None when a rerun would fail the same way."""

    def __init__(
        self, message: str, connector: str | None = None, transient: str | None = None
    ) -> None:
        self.connector = connector
        self.transient = transient
        super().__init__(message)


class RunInterruptedError(DativoError):
    """The run was stopped by a signal; confirmed states were kept."""

    def __init__(self, signal_number: int) -> None:
        self.signal_number = signal_number
        self.exit_code = 128 + signal_number
        super().__init__(f"interrupted by signal {signal_number}; confirmed states were kept")
