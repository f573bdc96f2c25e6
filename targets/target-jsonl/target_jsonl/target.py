"""target-jsonl on the connector kit's loop: records encoded per stream into JSON-lines files,
published by the ``Destination`` at each commit."""

from __future__ import annotations

import typing as t
from itertools import chain
from operator import itemgetter

import orjson

from dativo_connector_kit.decimals import DecimalReader, decimal_fields
from dativo_connector_kit.target import InputError, SchemaError
from dativo_connector_kit.target import Target as KitTarget

# Optional features (metadata, validation) are imported when first used: start-up is part of
# every run's time.

if t.TYPE_CHECKING:
    from dativo_connector_kit.target import Message, Schema
    from target_jsonl.destination import Destination
    from target_jsonl.metadata import MetadataStamper
    from target_jsonl.schema_check import Check, Problem
    from target_jsonl.settings import Settings

_FORBIDDEN_IN_NAMES = ("/", "\\", "\0")
_LINE = orjson.OPT_APPEND_NEWLINE
CHUNK_BYTES = 1 << 20
MIN_CHUNK_BYTES = 64 << 10
PENDING_BUDGET_BYTES = 16 << 20
# Runs small enough for the CPU cache: their records are checked and written while still cached
# from being cut out of their lines, and the memory they take is reused by the next run.
RUN_BYTES = 256 << 10


class Stream:
    """A stream: what its latest SCHEMA said, and its encoded lines not yet handed to the
    destination: once they reach ``room`` bytes (a chunk, or what the stream's file takes
    before it is full), they are written in one call. (A plain class, not a dataclass: quick
    to define at start-up, which is part of every run.)"""

    __slots__ = ("check", "decimals", "key_properties", "name", "pending", "room")

    def __init__(
        self,
        name: str,
        key_properties: tuple[str, ...],
        check: Check | None,
        room: int,
        decimals: DecimalReader[orjson.Fragment] | None,
    ) -> None:
        """A stream with nothing pending; ``decimals`` written with the digits received."""
        self.name = name
        self.key_properties = key_properties
        self.check = check
        self.room = room
        self.pending = bytearray()
        self.decimals = decimals


class Target(KitTarget[Stream]):
    """Writes each stream's records through a ``Destination``; a commit publishes every open
    file (fsync, atomic rename, folder fsync)."""

    program = "target-jsonl"
    run_bytes = RUN_BYTES

    def __init__(self, settings: Settings, destination: Destination) -> None:
        """Write records through ``destination``."""
        super().__init__(settings.batch)
        self._destination = destination
        self._validate = settings.validate_records
        self._stamper: MetadataStamper | None = None
        if settings.add_record_metadata:
            from target_jsonl.metadata import MetadataStamper

            self._stamper = MetadataStamper()
        self._chunk_bytes = CHUNK_BYTES

    def open_stream(self, number: int, schema: Schema) -> Stream:
        """A new stream, or the known one with the new key properties and check."""
        name = schema.stream
        if name.startswith(".") or any(char in name for char in _FORBIDDEN_IN_NAMES):
            raise SchemaError("the stream name cannot start a file name")
        check = None
        if self._validate:
            from target_jsonl.schema_check import compile_check

            check = compile_check(schema.schema)
        properties = schema.schema.get("properties")
        fields = decimal_fields(properties) if isinstance(properties, dict) else ()
        decimals = DecimalReader.for_fields(fields, orjson.Fragment) if fields else None
        known = self.streams.get(name)
        if known is not None:
            known.key_properties, known.check = schema.key_properties, check
            known.decimals = decimals
            return known
        # memory: at most PENDING_BUDGET_BYTES of pending lines, but 64 KiB per stream
        share = PENDING_BUDGET_BYTES // (len(self.streams) + 1)
        self._chunk_bytes = max(MIN_CHUNK_BYTES, min(CHUNK_BYTES, share))
        for each in self.streams.values():
            each.room = min(each.room, self._chunk_bytes)
        return Stream(name, schema.key_properties, check, self._fresh_room(), decimals)

    def write_record(self, number: int, stream: Stream, message: Message, line: bytes) -> None:
        """Check and stamp a record, encode it into its stream's pending chunk."""
        record = message["record"]
        if stream.decimals is not None:
            record = stream.decimals.exact(line, record)
        if stream.check is not None and (problem := stream.check(record)) is not None:
            raise InputError(number, _mismatch(stream, record, problem))
        if self._stamper is not None:
            self._stamper.stamp(record, message)
        pending = stream.pending
        pending += orjson.dumps(record, option=_LINE)
        if len(pending) >= stream.room:
            self._write_pending(stream)

    def takes_runs(self, stream: Stream) -> bool:
        """Runs of compact records are written as received, unless metadata is added."""
        return self._stamper is None

    def take_run(self, stream: Stream, records: list[bytes]) -> bool:
        """Write the run's records as received, if each is an object with its key properties
        (and fits the schema, with ``validate_records``); else refuse it whole."""
        keys, check = stream.key_properties, stream.check
        if not (
            _keyed_objects(keys, records)
            if check is None
            else _checked_objects(keys, check, records)
        ):
            return False
        lines = b"\n".join([*records, b""])  # each record with its newline
        view, start, end = memoryview(lines), 0, len(lines)
        while start < end:  # as write_record does: hand over after the line that fills the room
            pending = stream.pending
            fill = start + stream.room - len(pending) - 1  # the byte that fills the room
            stop = lines.find(b"\n", fill) + 1 if fill < end else end
            if pending:
                pending += view[start:stop]
                if fill < end:
                    self._write_pending(stream)
            else:  # the same lines, written without being copied into ``pending`` first
                self._write_lines(stream, view[start:stop])
            start = stop
        return True

    def commit_batch(self) -> None:
        """Hand every pending line to the destination and publish its files."""
        for stream in self.streams.values():
            if stream.pending:
                self._destination.write(stream.name, stream.pending)
                stream.pending.clear()
            stream.room = self._fresh_room()
        self._destination.commit()
        if self._stamper is not None:
            self._stamper.new_batch()

    def _write_pending(self, stream: Stream) -> None:
        """Write the stream's pending lines to its file."""
        self._write_lines(stream, stream.pending)
        stream.pending.clear()

    def _write_lines(self, stream: Stream, lines: bytes | bytearray | memoryview) -> None:
        """Write whole lines to the stream's file; its room is what the file or a chunk
        takes next."""
        stream.room = min(self._chunk_bytes, self._destination.write(stream.name, lines))

    def _fresh_room(self) -> int:
        return min(self._chunk_bytes, self._destination.file_bytes)


def _keyed_objects(keys: tuple[str, ...], records: list[bytes]) -> bool:
    """Whether every record is a JSON object holding each of ``keys``, not null: decoded and
    looked up in C (``itemgetter`` raises ``KeyError`` for a missing key, ``TypeError`` for a
    value that is not an object), each record's objects dropped once looked at."""
    values = map(orjson.loads, records)
    try:
        if not keys:
            return {dict}.issuperset(map(type, values))
        found = map(itemgetter(*keys), values)
        return None not in (found if len(keys) == 1 else chain.from_iterable(found))
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return False


def _checked_objects(keys: tuple[str, ...], check: Check, records: list[bytes]) -> bool:
    """``_keyed_objects``, each record also passing ``check`` (``validate_records``)."""
    try:
        for record in map(orjson.loads, records):
            if type(record) is not dict or check(record):
                return False
            for key in keys:
                if record.get(key) is None:
                    return False
    except orjson.JSONDecodeError:
        return False
    return True


def _mismatch(stream: Stream, record: dict[str, t.Any], problem: Problem) -> str:
    """Name the stream, the record (by its key) and the field that does not fit."""
    path, how = problem
    if stream.key_properties:
        key = orjson.dumps({name: record.get(name) for name in stream.key_properties}).decode()
        which = f"record with key {key}"
    else:
        which = "record (the stream has no key properties)"
    field = f"field {path!r}" if path else "the record"
    return f"stream {stream.name!r}, {which}: {field} does not fit the schema: {how}"
