"""A CSV stream: one `files` entry (file, folder or glob), synced on a fast path when it can.

Both paths read rows through ``_rows``, which also filters by the replication-key bookmark and
advances the `file_modified_time` bookmark after each file. The SDK path (``get_records``)
serves stream maps, ``--test`` and batch messages. The fast path writes each record as one
orjson line into the writer's buffer, skipping the SDK's per-record work (schema conformance,
stream maps, per-record state and metrics calls), and keeps its message order: SCHEMA first,
a STATE every ``STATE_EVERY`` records and at the end, bookmarks advanced as the SDK does.
"""

from __future__ import annotations

import typing as t

import orjson
from singer_sdk import Stream
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib import StateMessage
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL

from dativo_connector_kit import ConfigurationError
from tap_csv.bookmarks import ModifiedTimeBookmark
from tap_csv.columns import converter
from tap_csv.files import list_files
from tap_csv.output import BLOCK_BYTES, BlockWriter, RecordEnvelope
from tap_csv.rows import BadRows, read_rows

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context, Record

    from tap_csv.layout import Layout
    from tap_csv.settings import FileSpec

STATE_EVERY = 10_000  # records between two STATE messages, on both paths


class CSVStream(Stream):
    """One stream: full table, incremental by a column, or by file modification time."""

    STATE_MSG_FREQUENCY = STATE_EVERY

    def __init__(self, tap: Tap, *, spec: FileSpec, layout: Layout) -> None:
        self.spec = spec
        self.layout = layout
        self._key_high: t.Any = None  # the largest replication-key value emitted so far
        super().__init__(tap, schema=layout.json_schema(), name=spec.entity)
        self.primary_keys = list(spec.keys)
        self.replication_key = spec.replication_key
        if spec.by_modified_time:
            self.forced_replication_method = REPLICATION_INCREMENTAL

    @property
    def _by_key(self) -> bool:
        return self.replication_method == REPLICATION_INCREMENTAL and bool(self.replication_key)

    @property
    def _by_modified_time(self) -> bool:
        incremental = self.replication_method == REPLICATION_INCREMENTAL
        return incremental and not self.replication_key and self.spec.by_modified_time

    def get_records(self, context: Context | None) -> Iterator[Record]:
        """The SDK path: one dict per row, every column, holding exactly the JSON values the
        fast path writes (date-times as its RFC 3339 strings)."""
        names = self.layout.columns
        # With batch messages, a STATE may only follow the BATCH holding the rows (the SDK
        # writes one after each), never come from inside a batch.
        states = self.get_batch_config(self.config) is None
        for values in self._rows(names, per_file_state=states):
            yield _as_json(dict(zip(names, values, strict=True)))

    def _rows(self, names: Sequence[str], *, per_file_state: bool) -> Iterator[list[t.Any]]:
        """Typed values of `names` for each row to emit this run, file after file; in
        `file_modified_time` mode the bookmark advances after each file (with a STATE if
        `per_file_state`)."""
        files = list_files(self.spec)
        bookmark = None
        if self._by_modified_time:
            bookmark = ModifiedTimeBookmark.from_state(self.stream_state)
            files = bookmark.unread(files)
        key = self._key_filter(names)
        bad_rows = BadRows(self.name, skip=self.spec.skips_bad_rows, logger=self.logger)
        self.logger.info("stream %r: reading %d file(s)", self.name, len(files))
        for source in files:
            rows = read_rows(self.spec, self.layout, source.path, names, bad_rows)
            yield from (rows if key is None else self._since(rows, *key))
            if bookmark is not None:  # the file is read whole, and its records written
                bookmark.advance(source)
                bookmark.save(self.stream_state)
                if per_file_state:
                    self._emit_state()
        bad_rows.log_summary()

    def _key_filter(self, names: Sequence[str]) -> tuple[int, t.Any] | None:
        """Where the replication key is among `names`, and the bookmark as a typed value."""
        if not self._by_key:
            return None
        column = t.cast("str", self.replication_key)
        if column not in self.layout.types:
            raise ConfigurationError(f"stream {self.name!r}: no column {column!r} to replicate by")
        start = self.get_starting_replication_key_value(None)
        if start is None:
            return names.index(column), None
        kind = self.layout.types[column]
        try:
            return names.index(column), (converter(kind) or str)(start)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(
                f"stream {self.name!r}: the state's bookmark {start!r} is not a valid {kind}"
            ) from exc

    def _since(
        self, rows: Iterable[list[t.Any]], index: int, start: t.Any
    ) -> Iterator[list[t.Any]]:
        """Rows whose key is >= the bookmark (rows without a key only when there is none);
        tracks the largest key emitted."""
        for values in rows:
            value = values[index]
            if value is None:
                if start is None:
                    yield values
                continue
            if start is not None and value < start:
                continue
            if self._key_high is None or value > self._key_high:
                self._key_high = value
            yield values

    def _increment_stream_state(
        self, latest_record: Record, *, context: Context | None = None
    ) -> None:
        """The SDK's per-record bookmark, except in `file_modified_time` mode (per file)."""
        if not self._by_modified_time:
            super()._increment_stream_state(latest_record, context=context)

    def _write_state_message(self) -> None:
        """Write the tap's state through the BlockWriter, which drops only a repeat with nothing
        in between (the SDK's StateWriter drops every repeat, so a long full-table sync
        would give targets no STATE to commit on)."""
        if not self.state_manager.is_flushed:
            _ = self.stream_state  # creates the stream's entry
            self._tap.write_message(StateMessage(value=self.tap_state))
            self.state_manager.is_flushed = True

    def _emit_state(self) -> None:
        self.state_manager.is_flushed = False
        self._write_state_message()

    def _sync_records(
        self, context: Context | None = None, *, write_messages: bool = True
    ) -> t.Generator[dict, t.Any, t.Any]:
        """The fast path for a plain stream (see the module doc), else the SDK's."""
        if not self._fast_path_applies(context, write_messages=write_messages):
            yield from super()._sync_records(context, write_messages=write_messages)
            return
        self._sync_fast()

    def _fast_path_applies(self, context: Context | None, *, write_messages: bool) -> bool:
        maps = self.stream_maps
        return (
            write_messages
            and context is None
            and self.ABORT_AT_RECORD_COUNT is None
            and isinstance(self._tap.message_writer, BlockWriter)
            and len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and maps[0].stream_alias == self.name
        )

    def _sync_fast(self) -> None:
        self._write_starting_replication_value(None)
        writer = t.cast("BlockWriter", self._tap.message_writer)
        names = self._emitted_columns()
        envelope = RecordEnvelope(self.name, self._stream_version)
        pending, prefix, suffix = writer.pending, envelope.prefix, envelope.suffix()
        dumps = orjson.dumps
        count = 0
        with self.get_record_counter() as counter, self.get_sync_timer():
            for values in self._rows(names, per_file_state=True):
                pending += prefix
                pending += dumps(dict(zip(names, values)))  # noqa: B905 (strict= costs 20%)
                pending += suffix
                count += 1
                if len(pending) >= BLOCK_BYTES:
                    writer.flush()
                if not count % STATE_EVERY:
                    counter.increment(STATE_EVERY)
                    self._checkpoint()
                    suffix = envelope.suffix()
            counter.increment(count % STATE_EVERY)
        self._checkpoint(final=True)

    def _emitted_columns(self) -> list[str]:
        """Selected columns in file order, and the replication key (its bookmark needs it)."""
        return [
            column
            for column in self.layout.columns
            if column == self.replication_key or self.mask.get(("properties", column), True)
        ]

    def _checkpoint(self, *, final: bool = False) -> None:
        """Bookmark the largest key emitted (a progress marker until the stream ends, as the
        SDK does for unsorted streams), then write a STATE."""
        if self._key_high is not None:
            key = t.cast("str", self.replication_key)
            self._increment_stream_state(_as_json({key: self._key_high}))
        if final:
            self._finalize_state(self.stream_state)
        self._emit_state()


def _as_json(record: dict[str, t.Any]) -> dict[str, t.Any]:
    """The record as written by orjson and read back: date-times become strings."""
    return orjson.loads(orjson.dumps(record))
