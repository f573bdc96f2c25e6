"""Singer message lines written in big blocks around record JSON that Postgres rendered.

A RECORD line is ``{"type":"RECORD","stream":S,"record":<row JSON>[,"version":V],
"time_extracted":T}``, the same fields in the same order as the Singer SDK writes them, with
one ``time_extracted`` per fetched batch.
"""

from __future__ import annotations

import datetime
import typing as t
from operator import itemgetter

import orjson

if t.TYPE_CHECKING:
    from collections.abc import Sequence


class MessageWriter:
    """Writes one stream's messages to a binary output (the process's stdout)."""

    def __init__(self, out: t.BinaryIO, stream: str, version: int | None) -> None:
        self._out = out
        self._stream = stream
        self._version = version
        self._prefix = b'{"type":"RECORD","stream":' + orjson.dumps(stream) + b',"record":'
        self._version_field = b"" if version is None else b',"version":%d' % version

    def records(self, rows: Sequence[tuple[str, ...]]) -> int:
        """Write one RECORD line per row (``row[0]`` is the record's JSON text); returns the
        number of bytes written."""
        extracted = datetime.datetime.now(datetime.UTC).isoformat()
        prefix = self._prefix
        suffix = self._version_field + b',"time_extracted":"' + extracted.encode() + b'"}\n'
        records = "\0".join(map(itemgetter(0), rows)).encode()  # no JSON text holds a NUL
        if b"\n" in records or b"\r" in records:
            # A `json` value keeps the whitespace it was stored with, line breaks included.
            # JSON strings cannot hold raw line breaks, so they are whitespace: make them spaces.
            records = records.replace(b"\r", b" ").replace(b"\n", b" ")
        block = b"".join((prefix, records.replace(b"\0", suffix + prefix), suffix))
        self._out.write(block)
        return len(block)

    def state(self, value: t.Mapping[str, t.Any]) -> None:
        """Write a STATE and flush: a checkpoint reaches the target now, not with the next
        batch (which may be long in coming)."""
        self._out.write(orjson.dumps({"type": "STATE", "value": value}) + b"\n")
        self._out.flush()

    def activate_version(self) -> None:
        message = {"type": "ACTIVATE_VERSION", "stream": self._stream, "version": self._version}
        self._out.write(orjson.dumps(message) + b"\n")

    def flush(self) -> None:
        self._out.flush()
