"""Retries, backoff, Retry-After, rate limit, and the exit code of each kind of failure."""

from __future__ import annotations

import itertools
import socket
import time
from email.utils import formatdate

ROWS = [{"id": 1}, {"id": 2}]
SCHEMA = {"properties": {"id": {"type": "integer"}}}


def stream(name: str, path: str, **extra) -> dict:
    return {"name": name, "path": path, "schema": SCHEMA, **extra}


def gaps(seen: list) -> list[float]:
    return [later.at - earlier.at for earlier, later in itertools.pairwise(seen)]


def test_429_waits_as_long_as_retry_after_says(api, run_tap) -> None:
    api.route("/seconds", api.sequence((429, {"error": "slow down"}, {"Retry-After": "1"}), ROWS))

    def dated(seen):
        if len(api.requests_to("/dated")) == 1:
            return 429, {}, {"Retry-After": formatdate(time.time() + 2, usegmt=True)}
        return ROWS

    api.route("/dated", dated)

    run = run_tap(api.config(stream("seconds", "/seconds"), stream("dated", "/dated")))

    assert run.returncode == 0, run.stderr
    assert run.records("seconds") == ROWS
    assert run.records("dated") == ROWS
    (waited,) = gaps(api.requests_to("/seconds"))
    assert waited >= 1.0
    (waited,) = gaps(api.requests_to("/dated"))
    assert waited >= 1.0  # an HTTP date has whole seconds: 2 s from now is 1 to 2 s away
    assert "HTTP 429" in run.stderr
    assert "retry 1 of 2" in run.stderr


def test_500_then_success_is_retried_with_growing_waits(api, run_tap) -> None:
    api.route("/flaky", api.sequence((500, {"error": "oops"}), (502, "bad gateway"), ROWS))

    run = run_tap(api.config(stream("flaky", "/flaky"), backoff_factor=0.2))

    assert run.returncode == 0, run.stderr
    assert run.records() == ROWS
    first, second = gaps(api.requests_to("/flaky"))
    assert first >= 0.1  # drawn from [0.1, 0.2]: factor 0.2, equal jitter
    assert second >= 0.2  # drawn from [0.2, 0.4]: doubled


def test_server_errors_outlasting_the_retries_exit_5(api, run_tap) -> None:
    api.route("/down", lambda seen: (503, {"error": "maintenance"}))

    run = run_tap(api.config(stream("down", "/down")))

    assert run.returncode == 5
    assert len(api.requests_to("/down")) == 3  # the first attempt and max_retries=2
    assert "tap-rest: TransientError: stream 'down': HTTP 503" in run.stderr
    assert "maintenance" in run.stderr


def test_retry_after_beyond_backoff_max_gives_up_at_once(api, run_tap) -> None:
    api.route("/later", lambda seen: (429, {}, {"Retry-After": "3600"}))

    run = run_tap(api.config(stream("later", "/later")))

    assert run.returncode == 5
    assert len(api.requests_to("/later")) == 1
    assert "retry after 3600 s, more than backoff_max" in run.stderr
    assert run.seconds < 30


def test_refused_credentials_fail_at_once_with_exit_4(api, run_tap) -> None:
    api.route("/private", lambda seen: (401, {"error": "who are you"}))

    run = run_tap(api.config(stream("private", "/private"), max_retries=5, backoff_factor=1))

    assert run.returncode == 4
    assert len(api.requests_to("/private")) == 1
    assert "tap-rest: AuthenticationError: stream 'private': HTTP 401" in run.stderr
    assert "check the `auth` setting" in run.stderr
    assert "Traceback" not in run.stderr


def test_other_client_errors_fail_at_once_with_exit_1(api, run_tap) -> None:
    run = run_tap(api.config(stream("missing", "/missing")))

    assert run.returncode == 1
    assert len(api.requests_to("/missing")) == 1
    assert f"HTTP 404 Not Found from GET {api.url}/missing" in run.stderr


def test_connection_refused_is_retried_then_exits_3(api, run_tap) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = api.config(stream("gone", "/gone"), api_url=f"http://127.0.0.1:{port}")

    run = run_tap(config)

    assert run.returncode == 3
    assert "tap-rest: ConnectionError: stream 'gone': cannot connect" in run.stderr
    assert "Connection refused" in run.stderr
    assert run.stderr.count("retry ") == 2


def test_read_timeouts_are_retried_then_exit_5(api, run_tap) -> None:
    def slow(seen):
        time.sleep(1.0)
        return ROWS

    api.route("/slow", slow)

    run = run_tap(api.config(stream("slow", "/slow"), timeout=0.25, max_retries=1))

    assert run.returncode == 5
    assert len(api.requests_to("/slow")) == 2
    assert "ReadTimeout" in run.stderr


def test_requests_per_second_is_shared_by_all_streams(api, run_tap) -> None:
    def paged(seen):
        return ROWS if int(seen.query["page"]) <= 3 else []

    api.route("/a", paged)
    api.route("/b", paged)
    pages = {"type": "page"}
    config = api.config(
        stream("a", "/a", pagination=pages),
        stream("b", "/b", pagination=pages),
        requests_per_second=8,
    )

    run = run_tap(config)

    assert run.returncode == 0, run.stderr
    assert len(run.records()) == 12
    seen = sorted(api.seen, key=lambda s: s.at)
    assert len(seen) == 8
    # Arrival times jitter with the load of the machine, so each gap is checked loosely (an
    # unthrottled tap sends these within milliseconds) and the whole span tightly.
    assert min(gaps(seen)) >= 0.06
    assert seen[-1].at - seen[0].at >= 7 * 0.125 - 0.03
