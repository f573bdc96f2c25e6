"""When to send a request: exponential backoff with jitter, Retry-After, and a rate limit."""

from __future__ import annotations

import logging
import random
import time
import typing as t
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from singer_sdk.exceptions import RetriableAPIError

if t.TYPE_CHECKING:
    from collections.abc import Generator

logger = logging.getLogger(__name__)


def retry_after(failure: BaseException | None, now: float | None = None) -> float | None:
    """Seconds a failed response's ``Retry-After`` header asks to wait (delta or HTTP date).

    ``None`` when the failure carries no usable header.
    """
    response = failure.response if isinstance(failure, RetriableAPIError) else None
    header = response.headers.get("Retry-After", "").strip() if response is not None else ""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait before retrying a failed request."""

    max_retries: int
    backoff_factor: float
    backoff_max: float

    def waits(self) -> Generator[float, BaseException | None, None]:
        """A fresh wait generator for the ``backoff`` library: it is sent each failure and
        yields the seconds to wait before the next attempt.

        The n-th wait is drawn from ``[b/2, b]`` with ``b = backoff_factor * 2**n`` capped at
        ``backoff_max``, unless the response says ``Retry-After``: that wait is honoured
        exactly, or, when it is longer than ``backoff_max``, retrying stops.
        """
        failure = yield 0.0  # the backoff library primes the generator with None
        attempt = 0
        while True:
            wait = retry_after(failure)
            if wait is None:
                ceiling = min(self.backoff_max, self.backoff_factor * 2**attempt)
                wait = random.uniform(ceiling / 2, ceiling)
            elif wait > self.backoff_max:
                logger.warning(
                    "the server asks to retry after %.0f s, more than backoff_max (%.0f s): "
                    "not retrying",
                    wait,
                    self.backoff_max,
                )
                return
            attempt += 1
            failure = yield wait


class RateLimiter:
    """Spaces requests at least ``1 / requests_per_second`` apart (no limit if ``None``)."""

    def __init__(self, requests_per_second: float | None) -> None:
        """Start with no request sent."""
        self._interval = 1.0 / requests_per_second if requests_per_second else 0.0
        self._next = 0.0

    def wait(self) -> None:
        """Block until the next request may go, and book its slot."""
        if not self._interval:
            return
        now = time.monotonic()
        if self._next > now:
            time.sleep(self._next - now)
            now = self._next
        self._next = now + self._interval
