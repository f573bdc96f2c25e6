"""A hop between two connectors after the relay (mapper -> mapper -> target): the bytes move
in the kernel with ``splice``, never through Python, and the end of the stream travels on."""

from __future__ import annotations

import array
import contextlib
import fcntl
import os
import termios
import threading
import time
from collections.abc import Sequence
from typing import IO

from dativo_ingest.pipeline.relay import CHUNK_SIZE, BaseRelay
from dativo_ingest.runtime import ConnectorProcess


class Hop:
    """Moves ``upstream``'s stdout into ``downstream``'s stdin until ``upstream`` closes it,
    then closes ``downstream``'s stdin. If ``downstream`` stops reading first, the rest of
    ``upstream``'s output is drained (``downstream_closed``) so that ``upstream`` can end."""

    def __init__(self, upstream: ConnectorProcess, downstream: ConnectorProcess) -> None:
        self.upstream, self.downstream = upstream, downstream
        self.downstream_closed = False
        self.moved_at = time.monotonic()  # when a splice last returned
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._move, daemon=True, name="dativo-hop")

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def blocked_since(self) -> float | None:
        """Since when the hop has been waiting to write (``downstream`` reads nothing while
        ``upstream``'s output waits in the pipe); None if it is moving, waiting for input or
        done. A splice blocks on either end: the input it has not taken tells which."""
        if self.done.is_set() or not unread_bytes(self.upstream.stdout):
            return None
        return self.moved_at

    def _move(self) -> None:
        source, destination = self.upstream.stdout.fileno(), self.downstream.stdin.fileno()
        try:
            while os.splice(source, destination, CHUNK_SIZE):
                self.moved_at = time.monotonic()
        except BrokenPipeError:
            self.downstream_closed = True
            drain(self.upstream.stdout)
        except OSError:  # the upstream's output was closed under us (the run is ending)
            pass
        finally:
            self.done.set()  # before the end of input reaches downstream: it may exit at once
            self.downstream.close_stdin()


def drain(stream: IO[bytes]) -> None:
    """Read ``stream`` to its end, discarding what comes."""
    with contextlib.suppress(OSError, ValueError):
        while os.read(stream.fileno(), CHUNK_SIZE):
            pass


def unread_bytes(stream: IO[bytes]) -> int:
    """How many bytes wait in the pipe (or FIFO) ``stream`` reads or writes; 0 once closed."""
    count = array.array("i", [0])
    try:
        fcntl.ioctl(stream.fileno(), termios.FIONREAD, count)
    except (OSError, ValueError):
        return 0
    return count[0]


def stalled_reader(
    relay: BaseRelay, hops: Sequence[Hop], downstream: Sequence[ConnectorProcess], since: float
) -> int:
    """The index in ``downstream`` (the mappers, then the target) of the process holding up
    the chain after the relay: the last one whose feeder (the relay, then each hop) has
    waited to write to it since before ``since``, as everything before it waits because it
    does; if none is fed, the first still running, as everything after it waits for its
    output to end (the last process if none runs)."""
    fed_since = [relay.writing_since, *(hop.blocked_since() for hop in hops)]
    for index in reversed(range(len(downstream))):
        blocked = fed_since[index]
        if blocked is not None and blocked <= since:
            return index
    running = [i for i, process in enumerate(downstream) if process.returncode is None]
    return running[0] if running else len(downstream) - 1
