"""Records to rows for COPY: the values of the stream's columns in table order, ready for
``write_row``: the record's properties, then (with metadata) the ``_sdc_*`` values.

psycopg formats each value for COPY (in C); Postgres parses it into the column's type, so an
ISO date-time string becomes a timestamp there. The loader's dumper writes objects and arrays
as JSON, and booleans bound for text columns become ``true``/``false``, so a text column gets
the JSON text of a value that is not a string. Python itself converts a few things: every value
of a jsonb column to JSON text (``"abc"`` stays a JSON string); lists bound for array columns to
Postgres array literals
(items of json/jsonb arrays as JSON text); base64 text bound for a bytea column to bytes; and
it checks that a value bound for a ``numeric(p,s)`` column fits it exactly (Postgres would
round it). Decimal fields arrive as ``Decimal`` (see ``StreamSpec.decimals``), so their text
goes to COPY with every digit.
"""

from __future__ import annotations

import base64
import binascii
import re
import typing as t
from decimal import Decimal
from operator import itemgetter

import orjson
import psycopg
from psycopg.adapt import PyFormat, Transformer

from dativo_connector_kit.decimals import SPECIAL_NUMBERS
from target_postgres.compact import CompactRows
from target_postgres.sqltypes import BYTEA, numeric_bounds
from target_postgres.streams import DELETED_AT_COLUMN, METADATA_COLUMNS

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from target_postgres.streams import StreamSpec

_JSON_COLUMNS = ("jsonb", "json")
_TEXT_COLUMNS = re.compile(r"text|character varying(\(\d+\))?")
_POSTGRES_ARRAYS = Transformer()  # psycopg's default adapters, which dump lists as arrays


class ValueLoadError(ValueError):
    """A value that cannot be loaded into its column as it is."""


def _json_text(value: object) -> str:
    return orjson.dumps(value).decode()


def _text(value: object) -> object:
    """A boolean as JSON spells it (psycopg would write ``t``/``f``); other values as they are."""
    if type(value) is bool:
        return "true" if value else "false"
    return value


def _array_literal(value: object) -> object:
    if type(value) is not list:
        return value  # the column refuses it, naming line and field
    return bytes(_POSTGRES_ARRAYS.get_dumper(value, PyFormat.TEXT).dump(value) or b"").decode()


def _json_array_literal(value: object) -> object:
    if type(value) is not list:
        return value
    return _array_literal([None if item is None else _json_text(item) for item in value])


def _bytes(value: object) -> object:
    if type(value) is not str:
        return value
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ValueLoadError(f"{value[:40]!r} is not base64 (contentEncoding)") from None


def _exact_numeric(precision: int, scale: int) -> Callable[[object], object]:
    """A check that a value fits ``numeric(precision, scale)`` without rounding (counted on
    its text: the digits before the point, and after it but for trailing zeros)."""
    whole_digits = precision - scale

    def check(value: object) -> object:
        kind = type(value)
        if kind is Decimal or kind is int or kind is float:
            text = str(value)
        elif kind is str and value not in SPECIAL_NUMBERS and _is_number(value):
            text = value
        else:
            return value  # the column takes it (NaN), or refuses it naming line and field
        if "e" in text or "E" in text:
            text = format(Decimal(text), "f")
        whole, _, fraction = text.lstrip("-").partition(".")
        whole_count, fraction_count = len(whole.lstrip("0")), len(fraction.rstrip("0"))
        if fraction_count > scale or whole_count > whole_digits:
            raise ValueLoadError(
                f"{value} cannot be stored exactly in numeric({precision},{scale}) "
                f"({whole_count} digits before the point, {fraction_count} after)"
            )
        return value

    return check


def _is_number(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except ArithmeticError:
        return False


def _converter(column_type: str, schema: object) -> Callable[[object], object] | None:
    if column_type in _JSON_COLUMNS:
        return _json_text
    if _TEXT_COLUMNS.fullmatch(column_type):
        return _text
    if column_type in ("jsonb[]", "json[]"):
        return _json_array_literal
    if column_type.endswith("]"):
        return _array_literal
    if bounds := numeric_bounds(column_type):
        return _exact_numeric(*bounds)
    if (
        column_type == BYTEA
        and isinstance(schema, dict)
        and schema.get("contentEncoding") == "base64"
    ):
        return _bytes
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
        at the cost of a NULL, where a full timestamp per row takes a fifth of its work.
        Rows bound for a staging table (``to_staging``) leave these four out: the merge writes
        them (see ``statements``)."""
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
            if (convert := _converter(column_types[name], spec.properties.get(name)))
        ]
        self._with_metadata = spec.with_metadata
        self._sequence = sequence
        self._sync_started_at = sync_started_at
        self._staged = False
        staged = set(spec.staged_columns)
        self._staged_positions = [i for i, name in enumerate(spec.columns) if name in staged]
        self.compact = CompactRows.build(spec, column_types, sequence, sync_started_at)

    def to_staging(self) -> None:
        """Make rows for the stream's staging table from now on."""
        self._staged = True
        if self.compact is not None:
            self.compact.to_staging()

    def staged(self, row: list[t.Any]) -> list[t.Any]:
        """A row made for the table (before ``to_staging``), as the staging table takes it."""
        return [row[index] for index in self._staged_positions]

    def row(self, record: dict[str, t.Any], message: dict[str, t.Any]) -> list[t.Any]:
        """The COPY row of one RECORD message."""
        try:
            row = list(self._get(record))
        except KeyError:  # a property the record lacks: null
            row = [record.get(name) for name in self._names]
        for index, convert in self._converters:
            if (value := row[index]) is not None:
                try:
                    row[index] = convert(value)
                except (ValueLoadError, TypeError, psycopg.Error) as exc:
                    raise ValueLoadError(f"field {self._names[index]!r}: {exc}") from None
        if self._with_metadata and self._staged:  # those of METADATA_COLUMNS staged
            row += (
                message.get("time_extracted"),
                record.get(DELETED_AT_COLUMN),
                message.get("version"),
            )
        elif self._with_metadata:  # in METADATA_COLUMNS order
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
