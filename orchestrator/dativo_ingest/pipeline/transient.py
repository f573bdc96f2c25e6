"""Which connector failures are transient, so that a job's ``retry`` policy may rerun them.

Transient: the connector kit's exit codes 3 (connection error) and 5 (transient error), a
connector killed by a signal (or out of memory), a connection error in the last lines of its
stderr. Never: exit codes 2 (configuration) and 4 (authentication), or stderr that says the
credentials were refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

RETRYABLE_EXIT_CODES = {3: "connection error", 5: "transient error"}
NEVER_RETRIED_EXIT_CODES = {2: "configuration error", 4: "authentication error"}
_LINES_READ = 10
_CONNECTION = re.compile(
    r"connection refused|connection reset|connection timed out|could not connect to server"
    r"|server closed the connection unexpectedly|terminating connection due to administrator"
    r"|the database system is (?:starting up|shutting down|in recovery mode)"
    r"|temporary failure in name resolution|\bConnectionError\b|broken pipe",
    re.IGNORECASE,
)
_REFUSED_CREDENTIALS = re.compile(
    r"password authentication failed|authentication failed|AuthenticationError"
    r"|invalid credentials|\b(?:401|403)\b|unauthori[sz]ed|forbidden",
    re.IGNORECASE,
)


def transient_reason(
    connector: str, exit_code: int | None, exit_reason: str | None, stderr_tail: Sequence[str]
) -> str | None:
    """Why this failure of ``connector`` may be retried, or None if it must not be."""
    if exit_code in NEVER_RETRIED_EXIT_CODES:
        return None
    recent = list(stderr_tail)[-_LINES_READ:]
    if any(_REFUSED_CREDENTIALS.search(line) for line in recent):
        return None
    if exit_code in RETRYABLE_EXIT_CODES:
        return f"{connector} exited {exit_code} ({RETRYABLE_EXIT_CODES[exit_code]})"
    if exit_reason is not None and exit_reason.startswith(("killed by", "was killed")):
        return f"{connector} {exit_reason}"
    for line in reversed(recent):
        if _CONNECTION.search(line):
            return f"{connector} lost its connection: {line.strip()[:200]}"
    return None
