"""target-iceberg on the connector kit's loop: records buffered per stream, converted to Arrow
(target-parquet's typed conversion, strict), committed as one snapshot per stream per flush.
Runs of compact records are taken as target-parquet takes them: parsed by Arrow when every
column allows, else decoded in one go."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

import pyarrow as pa

from dativo_connector_kit.target import SchemaError
from dativo_connector_kit.target import Target as KitTarget
from target_iceberg.ledger import Progress, point_of
from target_iceberg.tables import arrow_schema, open_table, spec_of
from target_iceberg.writes import write
from target_parquet.columns import Column, columns_from_schema
from target_parquet.convert import BatchConverter
from target_parquet.target import MIN_RUN, decode_run

if t.TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

    from dativo_connector_kit.target import Message, Schema
    from target_iceberg.settings import PartitionField, Settings


# Records of a stream converted to Arrow at a time: a batch is held as compact Arrow chunks
# plus at most this many records as Python objects (ten times the size), so a large batch,
# which makes few and large data files, still takes little memory.
CHUNK_ROWS = 20_000


@dataclass
class Stream:
    """A stream's table, schema, converter and the records buffered since the last commit:
    Arrow ``chunks``, then the ``rows`` not converted yet."""

    name: str
    table: Table
    columns: dict[str, Column]
    key_properties: tuple[str, ...]
    converter: BatchConverter
    progress: Progress
    rows: list[dict[str, t.Any]] = field(default_factory=list)
    chunks: list[pa.Table] = field(default_factory=list)

    def stage(self) -> None:
        """Convert the buffered records to an Arrow chunk (a misfit raises ``RecordError``)."""
        self.chunks.append(self.converter.table(self.rows))
        self.rows = []

    def buffer(self, records: list[bytes]) -> bool:
        """Buffer a run's records: as the chunk Arrow parses from them when it reads every
        column and the run is long enough, else decoded; False (nothing buffered) if one is
        not an object with its key properties."""
        converter = self.converter
        if converter.reads_json and len(records) >= MIN_RUN:
            table = converter.from_json(b"\n".join(records), len(records))
            if table is not None:
                if self.rows:
                    self.stage()
                self.chunks.append(table)
                return True
        rows = decode_run(records, self.key_properties, converter.decimals)
        if rows is None:
            return False
        self.rows += rows
        if len(self.rows) >= CHUNK_ROWS:
            self.stage()
        return True

    def take(self) -> pa.Table | None:
        """The batch as one Arrow table (None when empty), leaving the buffer empty."""
        if self.rows:
            self.stage()
        chunks, self.chunks = self.chunks, []
        if not chunks:
            return None
        return chunks[0] if len(chunks) == 1 else pa.concat_tables(chunks)


class Target(KitTarget[Stream]):
    """Buffers records per stream; a commit converts each stream's records to one Arrow table
    and commits it to the stream's Iceberg table in one transaction, marked with the run id
    and batch sequence (see ``ledger``). A SCHEMA that changes a stream with buffered records
    commits them first."""

    program = "target-iceberg"

    def __init__(self, settings: Settings, catalog: Catalog, out: t.BinaryIO, err: t.TextIO):
        """Write into tables of ``catalog``, states to ``out``, warnings to ``err``."""
        super().__init__(settings.batch, out, err)
        self._settings = settings
        self._catalog = catalog
        self.flushes = 0  # commits of a stream's batch to its table
        self.skipped = 0  # records an earlier run of the load had committed
        self.held = 0  # STATEs not echoed: their place in what is skipped is not marked
        self._points = [settings.resume_point]  # the run's points, in order (see ``ledger``)
        self._next_point: tuple[str, dict[str, int]] | None = None  # the STATE to echo next

    def open_stream(self, number: int, schema: Schema) -> Stream:
        """The stream's columns and table (created, or evolved to the new columns)."""
        name, keys = schema.stream, schema.key_properties
        columns = columns_from_schema(schema.schema, self._settings.nested_as_json)
        if missing := [key for key in keys if key not in columns]:
            raise SchemaError(f"key properties {missing} are not in the schema")
        if self._settings.load_method == "upsert" and not keys:
            raise SchemaError("load_method upsert needs key properties, and the stream has none")
        previous = self.streams.get(name)
        if previous and previous.columns == columns and previous.key_properties == keys:
            return previous
        if previous and (previous.rows or previous.chunks):
            self.commit()
        partitions = self._settings.partitions_for(name)
        table = open_table(
            self._catalog,
            (self._settings.namespace, self._table_name(name)),
            arrow_schema(columns),
            partitions,
        )
        self._check_spec(name, table, partitions)
        settings = self._settings
        progress = (
            previous.progress
            if previous
            else Progress.of(
                table, settings.load_id, settings.run_id, settings.resume_point, self._points
            )
        )
        if progress.skip and not previous:
            self.warn(
                f"stream {name!r}: load {settings.load_id} already committed the next "
                f"{progress.skip} records (after {settings.resume_point}) to "
                f"{'.'.join(table.name())}; skipping them"
            )
        converter = BatchConverter(
            name,
            columns,
            keys,
            validate=True,  # a table has one type per column: a misfit is an error
            closed=schema.schema.get("additionalProperties") is False,
            warn=self.warn,
        )
        return Stream(name, table, columns, keys, converter, progress)

    def write_record(self, number: int, stream: Stream, message: Message, line: bytes) -> None:
        """Buffer the record (declared decimals with the digits received) until the commit,
        unless an earlier run of the load committed it."""
        progress = stream.progress
        progress.received += 1
        if progress.received <= progress.skip:
            self.skipped += 1
            return
        record = message["record"]
        if (decimals := stream.converter.decimals) is not None:
            record = decimals.exact(line, record)
        rows = stream.rows
        rows.append(record)
        if len(rows) >= CHUNK_ROWS:
            stream.stage()

    def takes_runs(self, stream: Stream) -> bool:
        """Every stream takes runs of compact records."""
        return True

    def take_run(self, stream: Stream, records: list[bytes]) -> bool:
        """Buffer the run (see ``Stream.buffer``), less its first records if an earlier run
        of the load committed them (checked as records all the same); refuse it, taking
        none, if a record is not an object with its key properties."""
        progress = stream.progress
        skip = min(len(records), max(0, progress.skip - progress.received))
        if skip and decode_run(records[:skip], stream.key_properties, None) is None:
            return False
        if skip < len(records) and not stream.buffer(records[skip:] if skip else records):
            return False
        progress.received += len(records)
        self.skipped += skip
        return True

    def commit_batch(self) -> None:
        """Commit each stream's buffered records as one transaction on its table."""
        for stream in self.streams.values():
            data = stream.take()
            if data is None:
                continue
            progress = stream.progress
            marks = progress.marks(self._settings.load_id, self._settings.run_id)
            method = self._settings.load_method
            if method == "overwrite" and (progress.batches or progress.skip):
                method = "append"  # this run's (or the crashed one's) first flush replaced them
            stream.table = write(stream.table, method, data, stream.key_properties, marks)
            progress.committed_through()
            self.flushes += 1

    def commit(self) -> None:
        """Mark the STATE about to be echoed as a point of every stream, then commit."""
        if self._next_point is not None:
            (point, counts), self._next_point = self._next_point, None
            if point != self._points[-1]:
                self._points.append(point)
            for name, stream in self.streams.items():
                stream.progress.mark(point, counts.get(name, 0))
        super().commit()

    def _on_state(self, number: int, message: Message) -> None:
        """Note the STATE's point and each stream's count at it; while a stream skips what
        the table holds, hold back a STATE no earlier run marked (its place is unknown)."""
        if "value" in message:  # else the loop reports the bad message
            point = point_of(message["value"])
            skipping = [s.progress for s in self.streams.values() if s.progress.skipping]
            if any(point not in progress.known for progress in skipping):
                self.held += 1
                return
            counts = {name: stream.progress.received for name, stream in self.streams.items()}
            self._next_point = point, counts
        super()._on_state(number, message)

    def _check_spec(self, name: str, table: Table, partitions: tuple[PartitionField, ...]):
        """Warn (once) when an existing table is partitioned otherwise than configured."""
        if (wanted := [(p.field, p.transform) for p in partitions]) != (found := spec_of(table)):
            self.warn_once(
                f"spec {name}",
                f"table {'.'.join(table.name())} is partitioned by {found or 'nothing'}, not "
                f"{wanted or 'nothing'}: partition_spec applies to the tables the target creates",
            )

    def _table_name(self, stream: str) -> str:
        name = self._settings.table_for(stream)
        if "/" in name or name.startswith("."):
            raise SchemaError(
                f"the stream name cannot be a table name; map it with table_names: "
                f'{{"{stream}": "..."}}'
            )
        return name
