"""Singer messages to stdout as orjson lines, RECORD lines buffered into big blocks.

RECORD lines wait in ``BlockWriter.pending`` (the fast path appends to it directly) and are
written in blocks of about ``BLOCK_BYTES``; any other message (SCHEMA, STATE, ...) first
writes them out, so a STATE never overtakes the records before it. A STATE is dropped only
when it repeats the previous one with nothing written in between; after records it is written
even if unchanged, so targets get a point to commit at.

SIGINT and SIGTERM are held while bytes are written: the Singer SDK's handler for them writes
a last STATE through this writer and exits, and running it in the middle of a write (Python
runs handlers when a write is interrupted) would cut a line in two. For the same reason only
complete lines leave the buffer: a handler that runs while the fast path is halfway through a
line writes the lines before it, its STATE, and never the half line.
"""

from __future__ import annotations

import signal
import sys
import typing as t
from contextlib import contextmanager
from datetime import UTC, datetime

import orjson
from singer_sdk.singerlib.encoding import GenericSingerWriter, SingerMessageType
from singer_sdk.singerlib.encoding.simple import Message

if t.TYPE_CHECKING:
    from collections.abc import Iterator

BLOCK_BYTES = 1 << 20
_HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@contextmanager
def _signals_held() -> Iterator[None]:
    """Delay SIGINT and SIGTERM (their handlers run when the block ends)."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class BlockWriter(GenericSingerWriter[bytes, Message]):
    """The tap's message writer (``Tap.message_writer_class``)."""

    def __init__(self, out: t.BinaryIO | None = None) -> None:
        self._out = out or sys.stdout.buffer
        self.pending = bytearray()
        self._written = 0  # bytes written so far
        self._last_state = (b"", -1)  # the last STATE line, and _written just after it

    def serialize_message(self, message: Message) -> bytes:
        return orjson.dumps(message.to_dict(), option=orjson.OPT_APPEND_NEWLINE)

    def write_message(self, message: Message) -> None:
        line = self.format_message(message)
        if message.type == SingerMessageType.RECORD:
            self.pending += line
            if len(self.pending) >= BLOCK_BYTES:
                self.flush()
            return
        with _signals_held():
            self._write_complete_lines()
            if message.type == SingerMessageType.STATE:
                if (line, self._written) == self._last_state:
                    return
                self._last_state = (line, self._written + len(line))
            self._write(line)
            self._out.flush()

    def flush(self) -> None:
        """Write out the complete lines pending."""
        with _signals_held():
            self._write_complete_lines()
            self._out.flush()

    def _write_complete_lines(self) -> None:
        end = self.pending.rfind(b"\n") + 1
        if end == len(self.pending):
            self._write(self.pending)
            self.pending.clear()
        elif end:
            with memoryview(self.pending)[:end] as complete:
                self._write(complete)
            del self.pending[:end]

    def _write(self, data: bytes | bytearray | memoryview) -> None:
        self._out.write(data)
        self._written += len(data)


class RecordEnvelope:
    """The bytes around a record's JSON in its RECORD line, fields in the SDK's order:
    ``{"type":"RECORD","stream":S,"record":R[,"version":V],"time_extracted":T}``."""

    def __init__(self, stream: str, version: int | None) -> None:
        self.prefix = b'{"type":"RECORD","stream":' + orjson.dumps(stream) + b',"record":'
        self._version = b"" if version is None else b',"version":%d' % version

    def suffix(self) -> bytes:
        """The line's end, with the current time as ``time_extracted``."""
        now = orjson.dumps(datetime.now(UTC))
        return self._version + b',"time_extracted":' + now + b"}\n"
