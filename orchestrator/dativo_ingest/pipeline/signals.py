"""SIGINT/SIGTERM during a run: forwarded to both connectors, SIGKILL after a grace period."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

from dativo_ingest.exceptions import RunInterruptedError
from dativo_ingest.logs import get_logger
from dativo_ingest.runtime import ConnectorProcess

log = get_logger(__name__)
FORWARDED = (signal.SIGINT, signal.SIGTERM)
DEFAULT_GRACE_SECONDS = 10.0


class SignalForwarder:
    """Records the first signal; repeated signals are ignored while the connectors drain.
    A signal that arrives before the connectors are attached is forwarded when they are."""

    def __init__(self, processes: Sequence[ConnectorProcess], grace_seconds: float) -> None:
        self.processes = processes
        self.grace_seconds = grace_seconds
        self.received: int | None = None
        self._killer: threading.Timer | None = None

    def handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.received is not None:
            log.warning("already stopping; waiting for the connectors to exit")
            return
        self.received = signum
        log.warning(
            "received %s; stopping the connectors (SIGKILL in %.0fs)",
            signal.Signals(signum).name,
            self.grace_seconds,
        )
        self._forward()

    def attach(self, processes: Sequence[ConnectorProcess]) -> None:
        """The connectors, once started (a signal already received reaches them now)."""
        self.processes = processes
        self._forward()

    def _forward(self) -> None:
        if self.received is None or not self.processes or self._killer is not None:
            return
        for process in self.processes:
            process.signal_group(self.received)
        self._killer = threading.Timer(self.grace_seconds, self._kill_all)
        self._killer.daemon = True
        self._killer.start()

    def _kill_all(self) -> None:
        for process in self.processes:
            process.kill_leftovers()

    def cancel(self) -> None:
        if self._killer is not None:
            self._killer.cancel()


@contextmanager
def forward_signals(
    processes: Sequence[ConnectorProcess], grace_seconds: float
) -> Iterator[SignalForwarder]:
    """Install the forwarder for the duration of the block, then restore the old handlers."""
    forwarder = SignalForwarder(processes, grace_seconds)
    previous = {signum: signal.signal(signum, forwarder.handle) for signum in FORWARDED}
    try:
        yield forwarder
    finally:
        forwarder.cancel()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def wait_unless_signalled(seconds: float) -> None:
    """Sleep ``seconds`` (between attempts); SIGINT/SIGTERM end the wait with
    RunInterruptedError."""
    received: list[int] = []
    woken = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        woken.set()

    previous = {signum: signal.signal(signum, handle) for signum in FORWARDED}
    try:
        woken.wait(seconds)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if received:
        raise RunInterruptedError(received[0])
