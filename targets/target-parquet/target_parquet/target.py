"""The message loop: Singer messages in; Parquet files and durable STATE lines out."""

from __future__ import annotations

import gc
import time
import typing as t
from dataclasses import dataclass, field

import orjson

from target_parquet import batch_files
from target_parquet.columns import Column, columns_from_schema, merge
from target_parquet.convert import BatchConverter
from target_parquet.errors import InputError, SchemaError
from target_parquet.partition import check_partitions, split

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from target_parquet.settings import PartitionSpec, Settings
    from target_parquet.writer import ParquetFiles

Message = dict[str, t.Any]

_FORBIDDEN_IN_NAMES = ("/", "\\", "\0")


@dataclass
class Stream:
    """A stream's current schema and the records buffered since the last commit."""

    name: str
    columns: dict[str, Column]
    key_properties: tuple[str, ...]
    partitions: tuple[PartitionSpec, ...]
    converter: BatchConverter
    rows: list[dict[str, t.Any]] = field(default_factory=list)


class Target:
    """Buffers records per stream and commits them as Parquet files; echoes a STATE only once
    every record received before it is in committed files.

    A commit converts each stream's buffered records to one Arrow table, writes it (split by
    partition and file size), and publishes the files (fsync + rename, or upload). It happens
    once ``batch_size_rows`` records are buffered; at a STATE, once the oldest buffered record is
    ``max_batch_age_seconds`` old; before a SCHEMA that changes a stream with buffered records;
    and at the end of input. After a commit the latest STATE's value is echoed on ``out``.
    """

    def __init__(
        self, settings: Settings, files: ParquetFiles, out: t.BinaryIO, err: t.TextIO
    ) -> None:
        """Write records through ``files``, states to ``out``, warnings to ``err``."""
        self._settings = settings
        self._files = files
        self._out = out
        self._err = err
        self._streams: dict[str, Stream] = {}
        self._state: object = None
        self._has_state = False
        self._buffered = 0
        self._oldest = 0.0
        self._last_echo = time.monotonic()
        self._unknown_types: set[str] = set()
        self._unpartitioned: set[str] = set()
        self._handlers: dict[str, Callable[[int, Message], None]] = {
            "SCHEMA": self._on_schema,
            "STATE": self._on_state,
            "BATCH": self._on_batch,
            "ACTIVATE_VERSION": lambda _number, _message: None,
        }
        self.records_written = 0

    def consume(self, lines: Iterable[bytes]) -> None:
        """Process every line, then commit; on bad input, commit what came before it first.
        On any failure, files not yet committed are discarded."""
        # Buffered records are plain dicts without reference cycles: the cyclic collector
        # would only rescan them over and over (a third of the run time); it runs after
        # each commit instead.
        gc.disable()
        try:
            self._consume(lines)
        except BaseException:
            self._files.discard()
            raise
        finally:
            gc.enable()

    def _consume(self, lines: Iterable[bytes]) -> None:
        loads, decode_error = orjson.loads, orjson.JSONDecodeError
        on_record, on_other = self._on_record, self._on_other
        try:
            for number, line in enumerate(lines, 1):
                try:
                    message = loads(line)
                except decode_error as exc:
                    if line.isspace():
                        continue
                    raise InputError(
                        number, f"not valid JSON ({exc.msg} at byte {exc.pos})"
                    ) from None
                if type(message) is dict and message.get("type") == "RECORD":
                    on_record(number, message, line)
                else:
                    on_other(number, message)
        except InputError:
            self._commit()
            raise
        self._commit()

    def _on_record(self, number: int, message: Message, line: bytes = b"") -> None:
        name = message.get("stream")
        stream = self._streams.get(name) if type(name) is str else None
        if stream is None:
            raise InputError(number, _no_stream("RECORD", name))
        record = message.get("record")
        if type(record) is not dict:
            raise InputError(number, f'RECORD for stream {name!r} has no "record" object')
        for key in stream.key_properties:
            if record.get(key) is None:
                raise InputError(number, f"RECORD for stream {name!r} lacks key property {key!r}")
        if line and (decimals := stream.converter.decimals) is not None:
            record = decimals.exact(line, record)
        stream.rows.append(record)
        self._buffered += 1
        if self._buffered == 1:
            self._oldest = time.monotonic()
        if self._buffered >= self._settings.batch_size_rows:
            self._commit()

    def _on_other(self, number: int, message: t.Any) -> None:
        if type(message) is not dict:
            raise InputError(number, "not a Singer message (expected a JSON object)")
        kind = message.get("type")
        if type(kind) is not str:
            raise InputError(number, 'message has no "type"')
        handler = self._handlers.get(kind)
        if handler is not None:
            handler(number, message)
        elif kind not in self._unknown_types:
            self._unknown_types.add(kind)
            self._warn(f"input line {number}: ignoring messages of unknown type {kind!r}")

    def _on_schema(self, number: int, message: Message) -> None:
        name = message.get("stream")
        if type(name) is not str or not name:
            raise InputError(number, 'SCHEMA has no "stream"')
        if (
            name in (".", "..")
            or name.startswith(".")
            or any(c in name for c in _FORBIDDEN_IN_NAMES)
        ):
            raise InputError(number, f"stream name {name!r} cannot be used as a folder name")
        keys = message.get("key_properties") or []
        if not isinstance(keys, list) or not all(type(key) is str for key in keys):
            raise InputError(
                number, f"SCHEMA for stream {name!r}: key_properties must be a list of field names"
            )
        schema = message.get("schema")
        previous = self._streams.get(name)
        try:
            columns = columns_from_schema(schema, self._settings.nested_as_json)
            if missing := [key for key in keys if key not in columns]:
                raise SchemaError(f"key properties {missing} are not in the schema")
            if previous is not None:
                columns = merge(previous.columns, columns)
            partitions = self._partitions(name, columns)
        except SchemaError as exc:
            raise InputError(number, f"SCHEMA for stream {name!r}: {exc}") from None
        if previous and previous.columns == columns and previous.key_properties == tuple(keys):
            return
        if previous and previous.rows:
            self._commit()
        converter = BatchConverter(
            name,
            columns,
            tuple(keys),
            validate=self._settings.validate_records,
            closed=isinstance(schema, dict) and schema.get("additionalProperties") is False,
            required=tuple(schema.get("required") or ()) if isinstance(schema, dict) else (),
            warn=self._warn,
        )
        self._streams[name] = Stream(name, columns, tuple(keys), partitions, converter)

    def _partitions(self, name: str, columns: dict[str, Column]) -> tuple[PartitionSpec, ...]:
        specs, named = self._settings.partitions_for(name)
        problem = check_partitions(name, specs, columns)
        if problem is None:
            return specs
        if named:
            raise SchemaError(problem)
        if name not in self._unpartitioned:
            self._unpartitioned.add(name)
            self._warn(f"{problem}: its files are not partitioned")
        return ()

    def _on_state(self, number: int, message: Message) -> None:
        if "value" not in message:
            raise InputError(number, 'STATE has no "value"')
        self._state = message["value"]
        self._has_state = True
        now = time.monotonic()
        max_age = self._settings.max_batch_age_seconds
        if self._buffered and now - self._oldest >= max_age:
            self._commit()
        elif not self._buffered and now - self._last_echo >= max_age:
            self._echo()

    def _on_batch(self, number: int, message: Message) -> None:
        name = message.get("stream")
        if type(name) is not str or name not in self._streams:
            raise InputError(number, _no_stream("BATCH", name))
        for record in batch_files.records(number, message):
            self._on_record(number, {"stream": name, "record": record})

    def _commit(self) -> None:
        """Write every buffered record to committed files, then echo the latest state."""
        for stream in self._streams.values():
            if not stream.rows:
                continue
            rows, stream.rows = stream.rows, []
            table = stream.converter.table(rows)
            del rows  # the records' Python objects are no longer needed
            for folder, part in split(stream.partitions, table):
                self._files.write(f"{stream.name}/{folder}" if folder else stream.name, part)
        self._files.commit()
        self.records_written += self._buffered
        self._buffered = 0
        gc.collect()
        self._echo()

    def _echo(self) -> None:
        if self._has_state:
            self._out.write(orjson.dumps(self._state, option=orjson.OPT_APPEND_NEWLINE))
            self._out.flush()
            self._has_state = False
        self._last_echo = time.monotonic()

    def _warn(self, text: str) -> None:
        print(f"target-parquet: warning: {text}", file=self._err, flush=True)


def _no_stream(kind: str, name: object) -> str:
    if type(name) is not str:
        return f'{kind} has no "stream"'
    return f"{kind} for stream {name!r} arrived before its SCHEMA"
