"""Parquet files of a batch: named ``part-<run>-<sequence>.parquet``, closed before they would
grow past ``max_file_size_mb``, published together by the store's commit."""

from __future__ import annotations

import os
import typing as t
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq

if t.TYPE_CHECKING:
    from target_parquet.storage import Store

SLICES_PER_FILE = 8  # a big batch is written in slices of about 1/8 of the file size


class ParquetFiles:
    """Writes tables into Parquet files through a store.

    A file name is ``part-<UTC start of the run, YYYYmmddTHHMMSSZ>-<8 hex digits, random per
    run>-<6-digit sequence within the run>.parquet``: names never collide across runs, and sort
    in writing order within a run.
    """

    def __init__(self, store: Store, compression: str, max_file_bytes: int) -> None:
        """Write through ``store`` with a Parquet ``compression`` codec (``none``: none)."""
        self._store = store
        self._compression = None if compression == "none" else compression
        self._max_file_bytes = max_file_bytes
        self._run = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{os.urandom(4).hex()}"
        self._sequence = 0
        self.files_written = 0

    def write(self, folder: str, table: pa.Table) -> None:
        """Write ``table`` into one or more new files in ``folder`` (relative to the store).

        A file is closed before the next slice would take it past the size limit, the next
        slice's size being estimated from the previous one's.
        """
        current: tuple[pa.NativeFile, pq.ParquetWriter] | None = None
        last_slice_bytes = 0
        for part in self._slices(table):
            if current and current[0].tell() + last_slice_bytes > self._max_file_bytes:
                self._close(*current)
                current = None
            if current is None:
                stream = self._store.open(self._next_path(folder))
                writer = pq.ParquetWriter(
                    stream,
                    table.schema,
                    compression=self._compression,
                    use_dictionary=_dictionary_columns(table.schema),
                )
                current = stream, writer
            stream, writer = current
            before = stream.tell()
            writer.write_table(part)
            last_slice_bytes = stream.tell() - before
        if current:
            self._close(*current)

    def commit(self) -> None:
        """Make every file written so far durable and visible."""
        self._store.commit()

    def discard(self) -> None:
        """Drop the files written since the last commit."""
        self._store.discard()

    def _slices(self, table: pa.Table) -> list[pa.Table]:
        if table.nbytes <= self._max_file_bytes or table.num_rows <= 1:
            return [table]
        rows = max(1, table.num_rows * self._max_file_bytes // SLICES_PER_FILE // table.nbytes)
        return [table.slice(start, rows) for start in range(0, table.num_rows, rows)]

    def _next_path(self, folder: str) -> str:
        self._sequence += 1
        name = f"part-{self._run}-{self._sequence:06d}.parquet"
        return f"{folder}/{name}" if folder else name

    def _close(self, stream: pa.NativeFile, writer: pq.ParquetWriter) -> None:
        writer.close()
        self._store.close(stream)
        self.files_written += 1


def _dictionary_columns(schema: pa.Schema) -> list[str]:
    """Dictionary-encode string columns only: numbers and timestamps are mostly distinct,
    and their dictionaries cost time and size (on the benchmark stream, all-column dictionaries
    made writing 60% slower and files 60% bigger). List columns stay plain (Parquet would
    take their leaf column's path, ``tags.list.element``, not the field's name)."""
    return [field.name for field in schema if pa.types.is_string(field.type)]
