"""The relay: moves the source's bytes into the destination's stdin, inspecting on the fly.

Bytes are read in large chunks into one reusable buffer and written on as soon as they form
whole lines. Only the incomplete last line of a chunk is held back, and only while it is
shorter than ``MAX_HELD_LINE``; a longer line is streamed through, so memory stays bounded
whatever the line length.
"""

from __future__ import annotations

import os
import time

from dativo_ingest.exceptions import RunFailedError
from dativo_ingest.protocol.counter import StreamCounter
from dativo_ingest.protocol.singer import SingerScanner
from dativo_ingest.protocol.translate import Translator

CHUNK_SIZE = 1 << 20
MAX_HELD_LINE = 4 << 20
_LONG_LINE_HEAD = 4096


class BaseRelay:
    """What every relay shares: the two ends, the figures the watchdog reads, and writing on.

    Call ``run``, then ``finish`` once the source's exit status is known.
    """

    def __init__(self, source_fd: int, destination_fd: int, counter: StreamCounter) -> None:
        self.source_fd = source_fd
        self.destination_fd = destination_fd
        self.counter = counter
        self.bytes_in = 0
        self.destination_closed = False
        self.last_read = time.monotonic()  # when bytes last came from the source
        self.writing_since: float | None = None  # set while a write to the destination blocks

    def run(self) -> None:
        """Relay until the source reaches EOF or the destination stops reading."""
        raise NotImplementedError

    def finish(self, source_succeeded: bool) -> int:
        """Deliver (or, after a source failure, drop) a final line without a newline.

        Returns the number of bytes dropped.
        """
        raise NotImplementedError

    def _write(self, data: memoryview) -> bool:
        """Write all of ``data``; False once the destination has closed its input."""
        self.writing_since = time.monotonic()
        try:
            while data:
                written = os.write(self.destination_fd, data)
                data = data[written:]
        except BrokenPipeError:
            self.destination_closed = True
            return False
        finally:
            self.writing_since = None
        return True


class Relay(BaseRelay):
    """Copies ``source_fd`` to ``destination_fd`` until EOF or until the destination closes,
    counting the Singer stream with ``scanner`` on the way."""

    def __init__(self, source_fd: int, destination_fd: int, scanner: SingerScanner) -> None:
        super().__init__(source_fd, destination_fd, scanner)
        self.scanner = scanner
        self._buffer = bytearray()  # allocated by run()
        self._held = 0
        self._in_long_line = False

    def run(self) -> None:
        """Relay until the source reaches EOF or the destination stops reading."""
        buf = self._buffer = bytearray(MAX_HELD_LINE + CHUNK_SIZE)
        view = memoryview(buf)
        while not self.destination_closed:
            received = os.readv(self.source_fd, [view[self._held : self._held + CHUNK_SIZE]])
            if received == 0:
                return
            self.last_read = time.monotonic()
            self.bytes_in += received
            end = self._held + received
            start = 0
            if self._in_long_line:
                newline = buf.find(b"\n", 0, end)
                if newline < 0:
                    self._write(view[:end])
                    self._held = 0
                    continue
                self._in_long_line = False
                start = newline + 1
            last_newline = buf.rfind(b"\n", start, end)
            whole = last_newline + 1 if last_newline >= 0 else start
            if whole > start:
                self.scanner.scan(buf, start, whole)
            if whole and not self._write(view[:whole]):
                return
            self._keep_tail(whole, end)

    def _keep_tail(self, whole: int, end: int) -> None:
        """Hold the incomplete last line, or stream it on if it is already too long."""
        buf = self._buffer
        tail = end - whole
        if tail > MAX_HELD_LINE:
            self.scanner.scan_line_head(bytes(buf[whole : whole + _LONG_LINE_HEAD]))
            self._write(memoryview(buf)[whole:end])
            self._in_long_line = True
            self._held = 0
            return
        if tail and whole:
            buf[:tail] = buf[whole:end]
        self._held = tail

    def finish(self, source_succeeded: bool) -> int:
        held, self._held = self._held, 0
        if not held or self.destination_closed:
            return 0
        if not source_succeeded:
            return held
        self.scanner.scan(self._buffer, 0, held)
        self._write(memoryview(self._buffer)[:held])
        return 0


MAX_TRANSLATED_LINE = 64 << 20


class LineTooLongError(RunFailedError):
    """A message too long to translate (translation needs the whole line in memory)."""


class TranslatingRelay(BaseRelay):
    """A relay that rewrites each message (Airbyte <-> Singer) on its way through.

    Translation needs whole lines: a line is held until complete, up to
    ``MAX_TRANSLATED_LINE`` bytes, which bounds memory; a longer one fails the run.
    """

    def __init__(
        self,
        source_fd: int,
        destination_fd: int,
        translator: Translator,
    ) -> None:
        super().__init__(source_fd, destination_fd, translator)
        self.translator = translator
        self._pending = b""

    def run(self) -> None:
        if not self._write(memoryview(self.translator.preamble())):
            return
        while not self.destination_closed:
            chunk = os.read(self.source_fd, CHUNK_SIZE)
            if not chunk:
                return
            self.last_read = time.monotonic()
            self.bytes_in += len(chunk)
            lines = (self._pending + chunk).split(b"\n")
            self._pending = lines.pop()
            if len(self._pending) > MAX_TRANSLATED_LINE:
                raise LineTooLongError(
                    f"a message longer than {MAX_TRANSLATED_LINE >> 20} MiB cannot be translated"
                )
            if not self._write(memoryview(self.translator.translate(lines))):
                return

    def finish(self, source_succeeded: bool) -> int:
        pending, self._pending = self._pending, b""
        if not pending or self.destination_closed:
            return 0
        if not source_succeeded:
            return len(pending)
        self._write(memoryview(self.translator.translate([pending])))
        return 0


def relay_for(
    source_fd: int, destination_fd: int, handler: SingerScanner | Translator
) -> BaseRelay:
    """The relay that drives ``handler``: a counting one for a scanner, else a translating one."""
    if isinstance(handler, SingerScanner):
        return Relay(source_fd, destination_fd, handler)
    return TranslatingRelay(source_fd, destination_fd, handler)
