"""Connector errors, each with the exit code that tells an orchestrator what to do next.

| code | class | retry? |
| --- | --- | --- |
| 1 | any other failure | no |
| 2 | ConfigurationError: the config is wrong | no: fix the config |
| 3 | ConnectionError: the system could not be reached | yes |
| 4 | AuthenticationError: credentials refused (401/403) | no: fix the credentials |
| 5 | TransientError: temporary failure that outlived the connector's own retries | yes |

A target's bad input is an ``InputError`` (exit 1) naming the input line.
"""

from __future__ import annotations

import builtins
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import IntEnum
from typing import ParamSpec, TypeVar


class ExitCode(IntEnum):
    """Process exit codes of first-party connectors."""

    FAILED = 1
    CONFIGURATION = 2
    CONNECTION = 3
    AUTHENTICATION = 4
    TRANSIENT = 5


class ConnectorError(Exception):
    """Root of the errors a connector raises on purpose."""

    exit_code = ExitCode.FAILED
    retryable = False


class ConfigurationError(ConnectorError):
    """The connector's config is invalid. Not retried."""

    exit_code = ExitCode.CONFIGURATION


class ConnectionError(ConnectorError, builtins.ConnectionError):
    """The source or destination could not be reached. Retryable."""

    exit_code = ExitCode.CONNECTION
    retryable = True


class AuthenticationError(ConnectorError):
    """Credentials were refused (HTTP 401/403, bad password). Never retried."""

    exit_code = ExitCode.AUTHENTICATION


class TransientError(ConnectorError):
    """A temporary failure (rate limit, 5xx) that outlasted the connector's retries."""

    exit_code = ExitCode.TRANSIENT
    retryable = True


class InputError(ConnectorError):
    """A line of a target's input is not a usable Singer message, or its record does not fit."""

    def __init__(self, line_number: int, problem: str) -> None:
        """Name the input line (1-based) and what is wrong with it."""
        super().__init__(f"input line {line_number}: {problem}")
        self.line_number = line_number
        self.problem = problem


class SchemaError(ConnectorError):
    """A SCHEMA a target cannot use; the target loop reports it as an ``InputError``."""


@contextmanager
def _reporting(program: str) -> Iterator[None]:
    try:
        yield
    except ConnectorError as exc:
        print(f"{program}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(int(exc.exit_code)) from None


P = ParamSpec("P")
R = TypeVar("R")


def exit_on_error(program: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a connector's entry point: a ConnectorError becomes one stderr line
    (``<program>: <ErrorClass>: <message>``) and the class's exit code."""

    def decorate(main: Callable[P, R]) -> Callable[P, R]:
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with _reporting(program):
                return main(*args, **kwargs)

        wrapper.__doc__ = main.__doc__
        wrapper.__name__ = main.__name__
        return wrapper

    return decorate


# (markers, error class, what the message says first): the first rule with a marker in the
# failure's text decides
FailureRule = tuple[tuple[str, ...], type["ConnectorError"], str]


def classify_failure(
    text: str, rules: Sequence[FailureRule], otherwise: tuple[type[ConnectorError], str]
) -> ConnectorError:
    """The connector error for a failure whose ``text`` a library gave (no typed error): the
    first rule whose markers appear in it, else ``otherwise``; the message is
    ``"<what>: <text>"``."""
    kind, what = next(
        ((k, w) for markers, k, w in rules if any(m in text for m in markers)), otherwise
    )
    return kind(f"{what}: {text}")
