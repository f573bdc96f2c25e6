"""Which connector failures a job's ``retry`` policy may rerun."""

from __future__ import annotations

import pytest

from dativo_ingest.pipeline.transient import transient_reason


@pytest.mark.parametrize(
    ("code", "exit_reason", "stderr", "expected"),
    [
        (3, None, [], "tap exited 3 (connection error)"),
        (5, None, ["rate limited"], "tap exited 5 (transient error)"),
        (-9, "killed by SIGKILL", [], "tap killed by SIGKILL"),
        (137, "was killed: out of memory (limit 64m)", [], "tap was killed: out of memory"),
        (
            1,
            None,
            [
                "Traceback ...",
                "psycopg.OperationalError: server closed the connection unexpectedly",
            ],
            "tap lost its connection: psycopg.OperationalError: server closed the connection",
        ),
        (1, None, ["FATAL:  the database system is starting up"], "tap lost its connection"),
        (2, None, ["connection refused"], None),  # a configuration error, whatever it says
        (4, None, [], None),  # authentication
        (3, None, ['FATAL:  password authentication failed for user "x"'], None),
        (1, None, ["HTTP 403 Forbidden: connection refused"], None),
        (1, None, ["KeyError: 'id'"], None),
        (0, None, [], None),
    ],
)
def test_transient_reason(code, exit_reason, stderr, expected):
    reason = transient_reason("tap", code, exit_reason, stderr)
    if expected is None:
        assert reason is None
    else:
        assert reason is not None and reason.startswith(expected)
