"""One table or view as a Singer stream, synced on a fast path.

The Singer SDK still writes the SCHEMA, runs discovery, selection and state bookkeeping; the
records skip its per-record machinery: Postgres renders each record's JSON (``query``), a
server-side cursor fetches them in batches of up to 10,000 rows and about 16 MiB, and
``output`` wraps them into RECORD lines written in one block per batch. Memory stays bounded
by about two batches.
"""

from __future__ import annotations

import sys
import typing as t

import orjson
from singer_sdk import Stream
from singer_sdk.singerlib import MetadataMapping
from singer_sdk.singerlib.catalog import REPLICATION_FULL_TABLE, REPLICATION_INCREMENTAL

from dativo_connector_kit import ConfigurationError
from tap_postgres.connection import connect, database_errors
from tap_postgres.output import MessageWriter
from tap_postgres.query import Extraction
from tap_postgres.typemap import json_schema

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    import psycopg
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context
    from singer_sdk.metrics import Counter
    from singer_sdk.singerlib import Catalog, CatalogEntry

    from tap_postgres.catalog import Table
    from tap_postgres.connection import ConnectionSettings
    from tap_postgres.typemap import Column

STATE_EVERY = 10_000  # records between two STATE messages
FIRST_FETCH_ROWS = 100
MAX_FETCH_ROWS = 10_000
BLOCK_BYTES = 16 << 20  # output block (and fetched batch) size aimed at
CURSOR_NAME = "tap_postgres_rows"


class PostgresStream(Stream):
    """A table or view: FULL_TABLE, or INCREMENTAL in replication-key order (resumable)."""

    STATE_MSG_FREQUENCY = STATE_EVERY

    def __init__(self, tap: Tap, table: Table, settings: ConnectionSettings) -> None:
        self.table = table
        self._settings = settings
        schema = {
            "type": "object",
            "properties": {column.name: json_schema(column) for column in table.columns},
            "required": [column.name for column in table.columns if not column.nullable],
        }
        super().__init__(tap, schema=schema, name=table.stream_id)
        self.primary_keys = list(table.primary_key)

    @property
    def is_sorted(self) -> bool:
        """Incremental syncs read in replication-key order, so every STATE is resumable."""
        return True

    @property
    def metadata(self) -> MetadataMapping:
        """Discovered metadata adds `valid-replication-keys` (integer, date, timestamp
        columns) and `schema-name`; a catalog given with ``--catalog`` is used as it is."""
        catalog = self._tap_input_catalog
        if self._metadata is None and not (catalog and catalog.get_stream(self.tap_stream_id)):
            mapping = MetadataMapping.get_standard_metadata(
                schema=self.schema,
                schema_name=self.table.schema,
                key_properties=self.primary_keys,
            )
            mapping.root.valid_replication_keys = self.table.replication_key_candidates or None
            mapping.root.selected = catalog is None and self.selected_by_default
            self._metadata = mapping
        return super().metadata

    @property
    def _singer_catalog_entry(self) -> CatalogEntry:
        entry = super()._singer_catalog_entry
        # No default method: a `replication-key` set in the metadata alone makes it INCREMENTAL.
        entry.replication_method = self.forced_replication_method
        entry.table = self.table.name
        entry.is_view = self.table.is_view
        return entry

    @property
    def emit_activate_version_messages(self) -> bool:
        """Off for the SDK, which would version in seconds (two runs in one second would
        share a version): ``_sync_records`` writes ACTIVATE_VERSION itself, in milliseconds."""
        return False

    @property
    def table_version(self) -> int | None:
        """The FULL_TABLE version: the tap's start time in epoch milliseconds."""
        if self.replication_method != REPLICATION_FULL_TABLE:
            return None
        if not self.config.get("emit_activate_version_messages", True):
            return None
        return self._initialized_at

    def _sync_records(
        self, context: Context | None = None, *, write_messages: bool = True
    ) -> Iterator[dict]:
        """Write the stream's ACTIVATE_VERSION, RECORD and STATE messages (replaces the SDK's
        record loop; yields no records)."""
        extraction = self._extraction()
        _ = self.stream_state  # creates the stream's entry, so every STATE shows it
        sys.stdout.flush()  # the SDK's SCHEMA goes first
        writer = MessageWriter(sys.stdout.buffer, self.name, self.table_version)
        if self.table_version is not None:
            writer.activate_version()
        with (
            connect(self._settings) as conn,
            self.get_record_counter() as counter,
            self.get_sync_timer(),
            database_errors(f"reading {self.name}"),
        ):
            self._write_rows(conn, extraction, writer, counter)
        if self.table_version is not None:
            writer.activate_version()
        self._finalize_state(self.stream_state)
        writer.state(self.tap_state)
        writer.flush()
        yield from ()

    def finalize_state_progress_markers(self, state: dict | None = None) -> None:
        """Nothing left to do: ``_sync_records`` finalized the state and wrote the stream's
        last STATE (the SDK would skip it when it equals the state the run started from)."""

    def get_records(self, context: Context | None) -> Iterator[dict]:
        """Not used: records never become Python dicts (see ``_sync_records``)."""
        raise NotImplementedError(f"{self.name}: records are written by _sync_records")

    def _write_rows(
        self,
        conn: psycopg.Connection[t.Any],
        extraction: Extraction,
        writer: MessageWriter,
        counter: Counter,
    ) -> None:
        """Fetch, write, and write a STATE every STATE_EVERY records. Fetches are sized so a
        block stays near BLOCK_BYTES, starting small in case the rows are huge."""
        statement, params = extraction.query()
        key = extraction.replication_key
        size, unsaved = FIRST_FETCH_ROWS, 0
        with conn.cursor(name=CURSOR_NAME) as cursor:
            cursor.execute(statement, params)
            while rows := cursor.fetchmany(min(size, STATE_EVERY - unsaved)):
                written = writer.records(rows)
                counter.increment(len(rows))
                if key is not None and rows[-1][1] is not None:  # the batch's last = its max
                    state = self.stream_state
                    state["replication_key"] = key.name
                    state["replication_key_value"] = orjson.loads(rows[-1][1])
                unsaved += len(rows)
                if unsaved == STATE_EVERY:
                    writer.state(self.tap_state)
                    unsaved = 0
                size = max(1, min(MAX_FETCH_ROWS, BLOCK_BYTES * len(rows) // written))

    def apply_catalog(self, catalog: Catalog) -> None:
        """Take the catalog's selection and replication settings; unusable ones fail now."""
        super().apply_catalog(catalog)
        if self.selected:
            self._replication_column()

    def _replication_column(self) -> Column | None:
        """The replication key column of an INCREMENTAL stream, None for FULL_TABLE."""
        method = self.replication_method
        if method == REPLICATION_FULL_TABLE:
            return None
        if method != REPLICATION_INCREMENTAL:
            raise ConfigurationError(
                f"stream {self.name}: replication method {method!r} is not supported; "
                "use FULL_TABLE or INCREMENTAL"
            )
        key = self.table.column(self.replication_key or "")
        if key is None:
            raise ConfigurationError(
                f"stream {self.name}: INCREMENTAL needs a replication key that is a column; "
                f"got {self.replication_key!r}, valid: {self.table.replication_key_candidates}"
            )
        return key

    def _extraction(self) -> Extraction:
        """The selected fields (those of the SCHEMA message), the key and the bookmark."""
        selected = self.stream_maps[0].transformed_schema.get("properties", {})
        if unknown := [name for name in selected if self.table.column(name) is None]:
            raise ConfigurationError(
                f"stream {self.name}: the catalog lists fields that the table does not have: "
                f"{unknown}; discover again"
            )
        columns = tuple(column for column in self.table.columns if column.name in selected)
        key = self._replication_column()
        state = self.stream_state
        start = None
        if key is not None and state.get("replication_key") == key.name:
            start = state.get("replication_key_value")  # a bookmark of another key: ignored
        return Extraction(self.table, columns, key, start, self.ABORT_AT_RECORD_COUNT)
