"""Stall detection: a run that outlives ``timeout``, or whose source sends nothing (or whose
destination reads nothing) for ``idle_timeout``, is stopped instead of hanging."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal, NamedTuple

from dativo_ingest.pipeline.relay import BaseRelay

Side = Literal["source", "target", "run"]


class Limits(NamedTuple):
    """The job's bounds, in seconds: the whole run (None: unbounded) and silence."""

    timeout: float | None
    idle_timeout: float


class Stall(NamedTuple):
    """Which side stalled (``run``: the whole-run timeout) and what was seen."""

    side: Side
    what: str


class Watchdog:
    """Checks a running relay a few times per ``idle_timeout`` (at most every second) and
    reports the first stall to ``on_stall``; ``done()`` ends the watch.

    While relaying, a write blocked for ``idle_timeout`` is the target's stall, a read waiting
    that long is the source's. Once the relay has ended, a side that has not exited within
    ``idle_timeout`` has stalled.
    """

    def __init__(
        self,
        limits: Limits,
        relay: BaseRelay,
        running: Callable[[], tuple[bool, bool]],
        on_stall: Callable[[Stall], None],
    ) -> None:
        self.limits = limits
        self.relay = relay
        self.running = running  # (source still running, target still running)
        self.on_stall = on_stall
        self.started = time.monotonic()
        self.relay_ended: float | None = None
        self._done = threading.Event()
        self._interval = min(1.0, limits.idle_timeout / 4)

    def start(self) -> None:
        threading.Thread(target=self._watch, daemon=True, name="dativo-watchdog").start()

    def relay_finished(self) -> None:
        self.relay_ended = time.monotonic()

    def done(self) -> None:
        self._done.set()

    def _watch(self) -> None:
        while not self._done.wait(self._interval):
            stall = self.check(time.monotonic())
            if stall is not None:
                self.on_stall(stall)
                return

    def check(self, now: float) -> Stall | None:
        """The stall seen at ``now``, if any."""
        limits, relay = self.limits, self.relay
        if limits.timeout is not None and now - self.started > limits.timeout:
            return Stall("run", f"the run exceeded its timeout of {limits.timeout:g}s")
        idle = limits.idle_timeout
        if self.relay_ended is None:
            writing = relay.writing_since
            if writing is not None and now - writing > idle:
                return Stall("target", f"it read no input for {idle:g}s (idle_timeout)")
            if writing is None and now - relay.last_read > idle:
                return Stall("source", f"it sent nothing for {idle:g}s (idle_timeout)")
            return None
        if now - self.relay_ended > idle:
            source_running, target_running = self.running()
            if source_running:
                return Stall("source", f"it closed its output but ran {idle:g}s more")
            if target_running:
                return Stall(
                    "target", f"it did not finish within {idle:g}s (idle_timeout) of its input"
                )
        return None
