"""Records to rows for COPY: the values of the stream's columns in table order, ready for
``write_row``: the record's properties, then (with metadata) the ``_sdc_*`` values.

psycopg formats each value for COPY (in C); Postgres parses it into the column's type, so an
ISO date-time string becomes a timestamp there. The loader's dumpers write objects and arrays
as JSON and booleans as ``true``/``false``, so a text column gets the JSON text of a value that
is not a string. Python itself converts two things: every value of a jsonb column to JSON
text (``"abc"`` stays a JSON string), and lists bound for the array columns of tables other
loaders made to Postgres array literals.
"""

from __future__ import annotations

import typing as t
from operator import itemgetter

import orjson
from psycopg.adapt import PyFormat, Transformer

from target_postgres.streams import DELETED_AT_COLUMN, METADATA_COLUMNS

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from target_postgres.streams import StreamSpec

_JSON_COLUMNS = ("jsonb", "json")
_POSTGRES_ARRAYS = Transformer()  # psycopg's default adapters, which dump lists as arrays


def _json_text(value: object) -> str:
    return orjson.dumps(value).decode()


def _array_literal(value: object) -> object:
    if type(value) is not list:
        return value  # the column refuses it, naming line and field
    return bytes(_POSTGRES_ARRAYS.get_dumper(value, PyFormat.TEXT).dump(value) or b"").decode()


def _converter(column_type: str) -> Callable[[object], object] | None:
    if column_type in _JSON_COLUMNS:
        return _json_text
    if column_type.endswith("]"):
        return _array_literal
    return None


class RowMaker:
    """Makes the rows of one stream in one batch, given its columns' types in the table."""

    def __init__(
        self, spec: StreamSpec, column_types: dict[str, str], sequence: int, sync_started_at: int
    ) -> None:
        """Prepare getters and converters for the columns of ``spec``. Metadata shared by the
        batch's rows: ``sequence`` and ``sync_started_at`` (milliseconds since the epoch); the
        received and batched times are written ``now``, which Postgres reads as the start of
        the batch's transaction (as the Singer SDK's ``_sdc_batched_at`` is the batch's start),
        at the cost of a NULL, where a full timestamp per row takes a fifth of its work."""
        if spec.with_metadata:
            assert tuple(spec.columns) == (*spec.record_columns, *METADATA_COLUMNS)
        self._names = spec.record_columns
        self._get: Callable[[dict[str, t.Any]], t.Any]
        if not self._names:
            self._get = lambda _record: ()
        elif len(self._names) == 1:
            self._get = lambda record: (record[self._names[0]],)
        else:
            self._get = itemgetter(*self._names)
        self._converters = [
            (index, convert)
            for index, name in enumerate(self._names)
            if (convert := _converter(column_types[name]))
        ]
        self._with_metadata = spec.with_metadata
        self._sequence = sequence
        self._sync_started_at = sync_started_at

    def row(self, record: dict[str, t.Any], message: dict[str, t.Any]) -> list[t.Any]:
        """The COPY row of one RECORD message."""
        try:
            row = list(self._get(record))
        except KeyError:  # a property the record lacks: null
            row = [record.get(name) for name in self._names]
        for index, convert in self._converters:
            if (value := row[index]) is not None:
                row[index] = convert(value)
        if self._with_metadata:  # in METADATA_COLUMNS order
            row += (
                message.get("time_extracted"),
                "now",
                "now",
                record.get(DELETED_AT_COLUMN),
                self._sequence,
                message.get("version"),
                self._sync_started_at,
            )
        return row
