"""The CSV stream: one full-table stream per configured file."""

from __future__ import annotations

import csv
import typing as t
from itertools import zip_longest

from singer_sdk import Stream
from singer_sdk.exceptions import FatalSyncError

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

ENCODING = "utf-8-sig"  # UTF-8, ignoring the byte-order mark that spreadsheet exports add


def read_header(path: Path) -> list[str]:
    """Return the header row of a CSV file; ``ValueError`` names the file if it is unusable."""
    with path.open(newline="", encoding=ENCODING) as handle:
        header = next(csv.reader(handle), [])
    if not header:
        raise ValueError(f"{path} has no header row")
    duplicates = sorted({column for column in header if header.count(column) > 1})
    if duplicates:
        raise ValueError(f"{path} repeats column names in its header: {duplicates}")
    return header


class CSVStream(Stream):
    """Full-table stream over one CSV file; every column is a nullable string."""

    def __init__(
        self, tap: Tap, *, name: str, path: Path, header: list[str], keys: list[str]
    ) -> None:
        """Declare the stream from the file's header, already read and checked by the tap."""
        self.path = path
        self._header = header
        schema = {
            "type": "object",
            "properties": {column: {"type": ["string", "null"]} for column in header},
        }
        super().__init__(tap, schema=schema, name=name)
        self.primary_keys = keys

    def get_records(self, context: Context | None) -> Iterator[dict[str, str | None]]:
        """Yield one record per data row; short rows get nulls for their missing columns."""
        width = len(self._header)
        with self.path.open(newline="", encoding=ENCODING) as handle:
            reader = csv.reader(handle)
            next(reader, None)  # the header
            for row in reader:
                if not row:
                    continue
                if len(row) > width:
                    raise FatalSyncError(
                        f"{self.path} line {reader.line_num}: {len(row)} fields, "
                        f"but the header has {width} columns"
                    )
                yield dict(zip_longest(self._header, row))
