"""A hop between two connectors after the relay (mapper -> mapper -> target): the bytes move
in the kernel with ``splice``, never through Python, and the end of the stream travels on."""

from __future__ import annotations

import contextlib
import os
import threading
from typing import IO

from dativo_ingest.pipeline.relay import CHUNK_SIZE
from dativo_ingest.runtime import ConnectorProcess


class Hop:
    """Moves ``upstream``'s stdout into ``downstream``'s stdin until ``upstream`` closes it,
    then closes ``downstream``'s stdin. If ``downstream`` stops reading first, the rest of
    ``upstream``'s output is drained (``downstream_closed``) so that ``upstream`` can end."""

    def __init__(self, upstream: ConnectorProcess, downstream: ConnectorProcess) -> None:
        self.upstream, self.downstream = upstream, downstream
        self.downstream_closed = False
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._move, daemon=True, name="dativo-hop")

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _move(self) -> None:
        source, destination = self.upstream.stdout.fileno(), self.downstream.stdin.fileno()
        try:
            while os.splice(source, destination, CHUNK_SIZE):
                pass
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
