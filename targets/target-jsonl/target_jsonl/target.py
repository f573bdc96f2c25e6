"""The message loop: Singer messages in; committed JSON-lines files and durable STATE lines out."""

from __future__ import annotations

import time
import typing as t
from dataclasses import dataclass, field

import orjson

from dativo_connector_kit.decimals import DecimalReader, decimal_fields
from target_jsonl.errors import InputError

# Optional features (BATCH files, metadata, validation) are imported when first used: start-up
# is part of every run's time.

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from target_jsonl.destination import Destination
    from target_jsonl.metadata import MetadataStamper
    from target_jsonl.schema_check import Check, Problem
    from target_jsonl.settings import Settings

Message = dict[str, t.Any]

_NO_STATE = object()
_FORBIDDEN_IN_NAMES = ("/", "\\", "\0")
_LINE = orjson.OPT_APPEND_NEWLINE
CHUNK_BYTES = 1 << 20
MIN_CHUNK_BYTES = 64 << 10
PENDING_BUDGET_BYTES = 16 << 20


@dataclass(slots=True)
class Stream:
    """A stream: what its latest SCHEMA said, and its encoded lines not yet handed to the
    destination: once they reach ``room`` bytes (a chunk, or what the stream's file takes
    before it is full), they are written in one call."""

    name: str
    key_properties: tuple[str, ...]
    check: Check | None
    room: int
    pending: bytearray = field(default_factory=bytearray)
    decimals: DecimalReader[orjson.Fragment] | None = None  # written with the digits received


class Target:
    """Writes each stream's records through a ``Destination``; echoes a STATE once durable.

    A commit publishes every open file (fsync, atomic rename, folder fsync), then echoes the
    latest STATE's bare value on ``out``. It happens once ``batch_size_rows`` records arrived
    since the last commit; at a STATE arriving ``max_batch_age_seconds`` or more after it; and
    at the end of input, or before failing on bad input. A STATE with no record pending is
    echoed at once.
    """

    def __init__(
        self, settings: Settings, destination: Destination, out: t.BinaryIO, err: t.TextIO
    ) -> None:
        """Write records through ``destination``, states to ``out``, warnings to ``err``."""
        self._destination = destination
        self._out = out
        self._err = err
        self._batch_rows = settings.batch_size_rows
        self._max_age = settings.max_batch_age_seconds
        self._validate = settings.validate_records
        self._stamper: MetadataStamper | None = None
        if settings.add_record_metadata:
            from target_jsonl.metadata import MetadataStamper

            self._stamper = MetadataStamper()
        self._streams: dict[str, Stream] = {}
        self._chunk_bytes = CHUNK_BYTES
        self._pending_state: object = _NO_STATE
        self._rows = 0
        self._last_commit = time.monotonic()
        self._unknown_types: set[str] = set()
        self._handlers: dict[str, Callable[[int, Message], None]] = {
            "SCHEMA": self._on_schema,
            "STATE": self._on_state,
            "BATCH": self._on_batch,
            "ACTIVATE_VERSION": lambda _number, _message: None,
        }
        self.records_written = 0

    def consume(self, lines: Iterable[bytes]) -> None:
        """Process every line, then commit; on bad input, commit what came before it."""
        try:
            self._read(lines)
        except InputError:
            self._commit()
            raise
        self._commit()

    def _read(self, lines: Iterable[bytes]) -> None:
        """The hot loop: parse each line, hand RECORDs straight to ``_on_record``."""
        loads = orjson.loads
        for number, line in enumerate(lines, 1):
            try:
                message = loads(line)
            except orjson.JSONDecodeError as exc:
                if line.isspace():
                    continue
                problem = f"not valid JSON ({exc.msg} at byte {exc.pos})"
                raise InputError(number, problem) from None
            if type(message) is dict and message.get("type") == "RECORD":
                self._on_record(number, message, line)
            else:
                self._on_other(number, message)

    def _on_other(self, number: int, message: object) -> None:
        if type(message) is not dict:
            raise InputError(number, "not a Singer message (expected a JSON object)")
        kind = message.get("type")
        if type(kind) is not str:
            raise InputError(number, 'message has no "type"')
        if handler := self._handlers.get(kind):
            handler(number, message)
        elif kind not in self._unknown_types:
            self._unknown_types.add(kind)
            print(
                f"target-jsonl: warning: input line {number}: ignoring messages of unknown "
                f"type {kind!r}",
                file=self._err,
            )

    def _on_record(self, number: int, message: Message, line: bytes = b"") -> None:
        """Check a RECORD, stamp it, encode it into its stream's pending chunk (the one
        function every record goes through, so it is written for speed)."""
        try:
            stream = self._streams[message["stream"]]
        except (KeyError, TypeError):  # no "stream", an unknown or unhashable one
            stream = self._stream(number, message)
        record = message.get("record")
        if type(record) is not dict:
            raise InputError(number, f'RECORD for stream {stream.name!r} has no "record" object')
        for key in stream.key_properties:
            if key not in record:
                raise InputError(
                    number, f"RECORD for stream {stream.name!r} lacks key property {key!r}"
                )
        if stream.decimals is not None and line:
            record = stream.decimals.exact(line, record)
        if stream.check is not None and (problem := stream.check(record)) is not None:
            raise InputError(number, _mismatch(stream, record, problem))
        if self._stamper is not None:
            self._stamper.stamp(record, message)
        pending = stream.pending
        pending += orjson.dumps(record, option=_LINE)
        if len(pending) >= stream.room:
            stream.room = min(self._chunk_bytes, self._destination.write(stream.name, pending))
            pending.clear()
        self._rows += 1
        if self._rows >= self._batch_rows:
            self._commit()

    def _on_batch(self, number: int, message: Message) -> None:
        """Each line of each manifest file is handled as a RECORD read at this input line."""
        from target_jsonl.batch_files import batch_records

        name = self._stream(number, message).name
        for url, line_number, value in batch_records(number, message):
            try:
                self._on_record(number, {"type": "RECORD", "stream": name, "record": value})
            except InputError as exc:
                where = f"BATCH file {url} line {line_number}"
                raise InputError(number, f"{where}: {exc.problem}") from None

    def _stream(self, number: int, message: Message) -> Stream:
        name = message.get("stream")
        stream = self._streams.get(name) if type(name) is str else None
        if stream is None:
            kind = message["type"]
            if type(name) is not str:
                raise InputError(number, f'{kind} has no "stream"')
            raise InputError(number, f"{kind} for stream {name!r} arrived before its SCHEMA")
        return stream

    def _on_schema(self, number: int, message: Message) -> None:
        stream = message.get("stream")
        if not isinstance(stream, str) or not stream:
            raise InputError(number, 'SCHEMA has no "stream"')
        if stream.startswith(".") or any(char in stream for char in _FORBIDDEN_IN_NAMES):
            raise InputError(number, f"stream name {stream!r} cannot start a file name")
        schema = message.get("schema")
        if not isinstance(schema, dict):
            raise InputError(number, f'SCHEMA for stream {stream!r} has no "schema" object')
        keys = message.get("key_properties") or []
        if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
            raise InputError(
                number, f"SCHEMA for stream {stream!r}: key_properties must be a list of names"
            )
        check = None
        if self._validate:
            from target_jsonl.schema_check import compile_check

            check = compile_check(schema)
        properties = schema.get("properties")
        fields = decimal_fields(properties) if isinstance(properties, dict) else ()
        decimals = DecimalReader.for_fields(fields, orjson.Fragment) if fields else None
        known = self._streams.get(stream)
        if known is None:
            self._streams[stream] = Stream(
                stream, tuple(keys), check, self._fresh_room(), decimals=decimals
            )
            # memory: at most PENDING_BUDGET_BYTES of pending lines, but 64 KiB per stream
            share = PENDING_BUDGET_BYTES // len(self._streams)
            self._chunk_bytes = max(MIN_CHUNK_BYTES, min(CHUNK_BYTES, share))
            for each in self._streams.values():
                each.room = min(each.room, self._chunk_bytes)
        else:
            known.key_properties, known.check, known.decimals = tuple(keys), check, decimals

    def _fresh_room(self) -> int:
        return min(self._chunk_bytes, self._destination.file_bytes)

    def _on_state(self, number: int, message: Message) -> None:
        if "value" not in message:
            raise InputError(number, 'STATE has no "value"')
        self._pending_state = message["value"]
        if self._rows == 0:
            self._echo_state()
        elif time.monotonic() - self._last_commit >= self._max_age:
            self._commit()

    def _commit(self) -> None:
        """Publish every record received so far, then echo the latest state, if any."""
        for stream in self._streams.values():
            if stream.pending:
                self._destination.write(stream.name, stream.pending)
                stream.pending.clear()
            stream.room = self._fresh_room()
        self._destination.commit()
        self.records_written += self._rows
        self._rows = 0
        self._last_commit = time.monotonic()
        if self._stamper is not None:
            self._stamper.new_batch()
        self._echo_state()

    def _echo_state(self) -> None:
        if self._pending_state is not _NO_STATE:
            self._out.write(orjson.dumps(self._pending_state, option=_LINE))
            self._out.flush()
            self._pending_state = _NO_STATE


def _mismatch(stream: Stream, record: Message, problem: Problem) -> str:
    """Name the stream, the record (by its key) and the field that does not fit."""
    path, how = problem
    if stream.key_properties:
        key = orjson.dumps({name: record.get(name) for name in stream.key_properties}).decode()
        which = f"record with key {key}"
    else:
        which = "record (the stream has no key properties)"
    field = f"field {path!r}" if path else "the record"
    return f"stream {stream.name!r}, {which}: {field} does not fit the schema: {how}"
