"""target-parquet on the connector kit's loop: records buffered per stream, converted to Arrow
and written as Parquet files at each commit."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

import orjson
import pyarrow as pa

from dativo_connector_kit.target import SchemaError
from dativo_connector_kit.target import Target as KitTarget
from target_parquet.columns import Column, columns_from_schema, merge
from target_parquet.convert import BatchConverter
from target_parquet.partition import check_partitions, split

if t.TYPE_CHECKING:
    from decimal import Decimal

    from dativo_connector_kit.decimals import DecimalReader
    from dativo_connector_kit.target import Message, Schema
    from target_parquet.settings import PartitionSpec, Settings
    from target_parquet.writer import ParquetFiles

_FORBIDDEN_IN_NAMES = ("/", "\\", "\0")
MIN_RUN = 256  # fewer records are cheaper to convert one by one than to parse in Arrow


@dataclass
class Stream:
    """A stream's current schema and the records buffered since the last commit: decoded
    ``rows`` and, before them, ``parts`` in arrival order (tables Arrow parsed from runs of
    JSON records, with that JSON; and earlier lists of rows)."""

    name: str
    columns: dict[str, Column]
    key_properties: tuple[str, ...]
    partitions: tuple[PartitionSpec, ...]
    converter: BatchConverter
    rows: list[dict[str, t.Any]] = field(default_factory=list)
    parts: list[tuple[pa.Table, bytes] | list[dict[str, t.Any]]] = field(default_factory=list)

    def table(self) -> pa.Table:
        """The buffered records as one table, emptying the buffer."""
        parts, rows = self.parts, self.rows
        self.parts, self.rows = [], []
        if rows:
            parts.append(rows)
        convert = self.converter.table
        tables = [part[0] if isinstance(part, tuple) else convert(part) for part in parts]
        if all(table.schema == tables[0].schema for table in tables):
            return tables[0] if len(tables) == 1 else pa.concat_tables(tables)
        # some decoded rows needed another type (a fallback): all rows through that path
        del tables
        every: list[dict[str, t.Any]] = []
        for part in parts:
            if isinstance(part, tuple):
                every += map(orjson.loads, part[1].split(b"\n"))
            else:
                every += part
        del parts
        return convert(every)


class Target(KitTarget[Stream]):
    """Buffers records per stream; a commit converts each stream's records to one Arrow table,
    writes it (split by partition and file size) and publishes the files (fsync + rename, or
    upload). A SCHEMA that changes a stream with buffered records commits them first."""

    program = "target-parquet"

    def __init__(self, settings: Settings, files: ParquetFiles) -> None:
        """Write records through ``files``."""
        super().__init__(settings.batch)
        self._settings = settings
        self._files = files

    def open_stream(self, number: int, schema: Schema) -> Stream:
        """The stream's columns (widened from its previous ones), partitions and converter."""
        name, keys = schema.stream, schema.key_properties
        if name.startswith(".") or any(char in name for char in _FORBIDDEN_IN_NAMES):
            raise SchemaError("the stream name cannot be used as a folder name")
        columns = columns_from_schema(schema.schema, self._settings.nested_as_json)
        if missing := [key for key in keys if key not in columns]:
            raise SchemaError(f"key properties {missing} are not in the schema")
        previous = self.streams.get(name)
        if previous is not None:
            columns = merge(previous.columns, columns)
        partitions = self._partitions(name, columns)
        if previous and previous.columns == columns and previous.key_properties == keys:
            return previous
        if previous and (previous.rows or previous.parts):
            self.commit()
        converter = BatchConverter(
            name,
            columns,
            keys,
            validate=self._settings.validate_records,
            closed=schema.schema.get("additionalProperties") is False,
            required=tuple(schema.schema.get("required") or ()),
            warn=self.warn,
        )
        return Stream(name, columns, keys, partitions, converter)

    def write_record(self, number: int, stream: Stream, message: Message, line: bytes) -> None:
        """Buffer the record (declared decimals with the digits received) until the commit."""
        record = message["record"]
        if (decimals := stream.converter.decimals) is not None:
            record = decimals.exact(line, record)
        stream.rows.append(record)

    def takes_runs(self, stream: Stream) -> bool:
        """Every stream takes runs of compact records."""
        return True

    def take_run(self, stream: Stream, records: list[bytes]) -> bool:
        """Buffer the run: as the table Arrow parses from it, when it reads every column and
        the run is long enough, else (or if the per-record path must decide) decoded; refuse it
        if a record is not an object with its key properties."""
        converter = stream.converter
        if converter.reads_json and len(records) >= MIN_RUN:
            lines = b"\n".join(records)
            table = converter.from_json(lines, len(records))
            if table is not None:
                if stream.rows:
                    stream.parts.append(stream.rows)
                    stream.rows = []
                stream.parts.append((table, lines))
                return True
        rows = decode_run(records, stream.key_properties, converter.decimals)
        if rows is None:
            return False
        stream.rows += rows
        return True

    def commit_batch(self) -> None:
        """Write every buffered record to files, then publish them."""
        for stream in self.streams.values():
            if not stream.rows and not stream.parts:
                continue
            table = stream.table()
            for folder, part in split(stream.partitions, table):
                self._files.write(f"{stream.name}/{folder}" if folder else stream.name, part)
        self._files.commit()

    def discard(self) -> None:
        """Drop the files written since the last commit."""
        self._files.discard()

    def _partitions(self, name: str, columns: dict[str, Column]) -> tuple[PartitionSpec, ...]:
        specs, named = self._settings.partitions_for(name)
        problem = check_partitions(name, specs, columns)
        if problem is None:
            return specs
        if named:
            raise SchemaError(problem)
        self.warn_once(f"unpartitioned {name}", f"{problem}: its files are not partitioned")
        return ()


def decode_run(
    records: list[bytes], keys: tuple[str, ...], decimals: DecimalReader[Decimal] | None
) -> list[dict[str, t.Any]] | None:
    """The records of a run (see ``Target.take_run``) decoded, declared decimals exact; None
    if one is not an object with non-null key properties."""
    loads, rows = orjson.loads, []
    try:
        for raw in records:
            record = loads(raw)
            if type(record) is not dict:
                return None
            for key in keys:
                if record.get(key) is None:
                    return None
            rows.append(record if decimals is None else decimals.exact(raw, record))
    except orjson.JSONDecodeError:
        return None
    return rows
