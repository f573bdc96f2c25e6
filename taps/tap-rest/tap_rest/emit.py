"""Message output: RECORD lines serialised by orjson and written in blocks; STATE checkpoints.

singer-sdk conforms, serialises, writes and flushes every RECORD on its own; on JSON records
that is over 90% of the tap's time. Here a stream serialises its records with orjson and the
writer holds them in a block that goes out whole, before any other message, so the order of
SCHEMA, RECORD, STATE and ACTIVATE_VERSION messages is exactly the SDK's.
"""

from __future__ import annotations

import copy
import logging
import math
import sys
import typing as t
from decimal import Decimal

import orjson
from singer_sdk.helpers._state import StateWriter
from singer_sdk.io_base import SingerWriter
from singer_sdk.singerlib import RecordMessage, StateMessage
from singer_sdk.singerlib.json import serialize_json

BLOCK_LINES = 2000


def _json_default(value: t.Any) -> t.Any:
    """Decimals (how floats are parsed, to keep every digit) as bare JSON numbers; like
    singer-sdk, null for those a float cannot hold (NaN, infinities, 1E+400)."""
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value).encode()) if math.isfinite(value) else None
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class BlockWriter(SingerWriter):
    """singer-sdk's message writer, plus a block of serialised RECORD lines that is written
    out when full and before any other message."""

    def __init__(self) -> None:
        """Start with an empty block."""
        super().__init__()
        self._lines: list[bytes] = []
        self.records_written = 0

    def write_record(self, line: bytes) -> None:
        """Queue one serialised RECORD line."""
        self._lines.append(line)
        self.records_written += 1
        if len(self._lines) >= BLOCK_LINES:
            self.flush_records()

    def flush_records(self) -> None:
        """Write the queued RECORD lines."""
        if self._lines:
            sys.stdout.flush()  # anything the SDK wrote through the text layer goes first
            out = sys.stdout.buffer
            out.write(b"".join(self._lines))
            out.flush()
            self._lines.clear()

    def write_message(self, message: t.Any) -> None:
        """Write a message after the RECORD lines queued before it."""
        self.flush_records()
        self.records_written += isinstance(message, RecordMessage)
        super().write_message(message)


class CheckpointWriter(StateWriter):
    """Writes STATE messages, skipping one only if it repeats the last with no RECORD between.

    singer-sdk's StateWriter skips every unchanged state, so a full-table stream would write
    no STATE after its first 10,000 records; targets checkpoint at STATE messages, and each
    stream must end with one.
    """

    def __init__(self, writer: BlockWriter) -> None:
        """Write through ``writer``, whose record count tells if records came between."""
        super().__init__(writer)
        self._writer = writer
        self._last: tuple[int, dict] | None = None

    def write_state(self, state: dict) -> None:
        """Write ``state`` unless it repeats the last STATE with no RECORD since."""
        if self._last == (self._writer.records_written, state):
            return
        self._writer.write_message(StateMessage(value=state))
        self._last = (self._writer.records_written, copy.deepcopy(state))


class RecordEncoder:
    """One stream's RECORD lines, shaped as singer-sdk shapes them: top-level properties that
    the schema declares (any, if it allows additional properties) and the catalog selects,
    values as parsed.

    Unlike the SDK it does not walk nested objects; the stream leaves records to the SDK when
    a nested property is deselected.
    """

    def __init__(
        self,
        stream: str,
        *,
        declared: frozenset[str] | None,
        deselected: frozenset[str],
        version: int | None,
        logger: logging.Logger,
    ) -> None:
        """Encode records of ``stream``; ``declared`` is ``None`` when any property may be."""
        self._prefix = b'{"type":"RECORD","stream":' + orjson.dumps(stream) + b',"record":'
        self._version = b',"version":%d' % version if version is not None else b""
        self._declared = declared
        self._deselected = deselected
        self._logger = logger
        self._warned = False

    def line(self, record: dict[str, t.Any], time_extracted: str) -> bytes:
        """The RECORD message of ``record``, newline included."""
        declared, deselected = self._declared, self._deselected
        if declared is not None and not declared.issuperset(record):
            if not self._warned:
                self._warned = True
                self._logger.warning(
                    "properties not in the schema are left out: %s",
                    sorted(set(record) - declared),
                )
            record = {key: value for key, value in record.items() if key in declared}
        if deselected and not deselected.isdisjoint(record):
            record = {key: value for key, value in record.items() if key not in deselected}
        try:
            body = orjson.dumps(record, default=_json_default)
        except orjson.JSONEncodeError:  # an integer beyond 64 bits: the SDK's encoder has none
            body = serialize_json(record).encode()
        return b"".join(
            (
                self._prefix,
                body,
                self._version,
                b',"time_extracted":"',
                time_extracted.encode(),
                b'"}\n',
            )
        )
