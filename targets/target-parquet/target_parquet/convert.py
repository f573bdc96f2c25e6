"""A stream's buffered records -> one Arrow table: vectorised on the common path, strict about
types, and per value only for a column whose values do not all fit.

Strings, booleans, date-times, dates and nested lists/structs are converted together, by one
``pa.array(records, struct_type)`` call (date-times and dates as strings, then cast). Numbers
are converted column by column, after a check of their Python types: Arrow would silently
truncate ``1.5`` to an int64 or read ``true`` as ``1.0``.

Decimal fields arrive as ``Decimal`` (``DecimalReader``): a ``numeric(p,s)`` field becomes
decimal128/256, and Arrow refuses a value it would have to round; ``numeric`` keeps the digits
as text.

Records that arrive as JSON text (runs of compact RECORD lines, see the connector kit's loop)
are parsed by Arrow's JSON reader in C++ against the columns' types (``from_json``), when every
column is of a kind it reads exactly; any doubt (a value Arrow refuses, an undeclared field, a
null where validation must tell a missing field from a null) sends them back to the per-record
path, which then decides as described here.

A value that does not fit its field (``"abc"`` for an integer, an unparseable date-time)
raises ``RecordError`` under ``validate_records``; otherwise the field is stored, in this
batch's files only, in the first kind of ``FALLBACKS`` that holds every value (an integer field
with ``1.5`` becomes float64, anything else text), with one warning per stream and field. A
decimal has no fallback: a value it cannot hold exactly is always an error.
"""

from __future__ import annotations

import base64
import binascii
import typing as t
from datetime import UTC, datetime, time
from decimal import Decimal
from itertools import chain
from uuid import UUID

import orjson
import pyarrow as pa
import pyarrow.json as pj

from dativo_connector_kit.decimals import DecimalReader
from target_parquet.columns import ARROW_TYPES, TIMESTAMP_TYPE, Column, Kind
from target_parquet.errors import RecordError
from target_parquet.kernels import any_not_finite, cast

if t.TYPE_CHECKING:
    from collections.abc import Callable

Row = dict[str, t.Any]

FALLBACKS: dict[Kind, tuple[Kind, ...]] = {
    Kind.INTEGER: (Kind.NUMBER, Kind.TEXT),
    Kind.NUMBER: (Kind.TEXT,),
    Kind.BOOLEAN: (Kind.TEXT,),
    Kind.STRING: (Kind.TEXT,),
    Kind.TIMESTAMP: (Kind.TEXT,),
    Kind.DATE: (Kind.TEXT,),
    Kind.NESTED: (Kind.JSON,),
    Kind.LOCAL_TIMESTAMP: (Kind.TEXT,),
    Kind.TIME: (Kind.TEXT,),
    Kind.BINARY: (Kind.TEXT,),
    Kind.UUID: (Kind.TEXT,),
}
_VIA_STRUCT = frozenset({Kind.BOOLEAN, Kind.STRING, Kind.TIMESTAMP, Kind.DATE, Kind.NESTED})
_CONVERSION_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_NONE = type(None)
_INTEGERS = frozenset({int, _NONE})
_NUMBERS = frozenset({int, float, _NONE})
_ONLY = {Kind.BOOLEAN: frozenset({bool, _NONE}), Kind.STRING: frozenset({str, _NONE})}
_STRINGS = frozenset({str, _NONE})
_DECIMALS = frozenset({Decimal, int, _NONE})
_DECIMAL_TEXTS = frozenset({Decimal, int, str, _NONE})
# the kinds Arrow's JSON reader reads as the per-record path would (date-times and dates are
# read as strings, then converted alike); NESTED types hold only int64, float64, bool, string
_READS_JSON = frozenset(
    {Kind.INTEGER, Kind.NUMBER, Kind.BOOLEAN, Kind.STRING, Kind.TIMESTAMP, Kind.DATE, Kind.NESTED}
)
# JSON text that Arrow reads (as floats) and orjson, the per-record path, refuses
_NOT_JSON = (b"NaN", b"Infinity")
# Arrow's JSON reader parses a run in blocks of this size, on its thread pool: a run of the
# kit's loop (up to 4 MiB) spans several blocks, so parsing it takes every core
JSON_BLOCK_BYTES = 512 << 10


def parse_timestamp(text: str) -> datetime | None:
    """An ISO 8601 date-time (a naive one is taken as UTC), or None when it is not one."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def timestamps(strings: pa.Array, *, lenient: bool = False) -> pa.Array | None:
    """Cast ISO 8601 strings to timestamp[us, UTC]; None if one is not a date-time (with
    ``lenient``, it becomes null instead). Arrow casts the usual forms (``Z`` or an offset);
    naive date-times and more than 6 decimals take the per-value path."""
    try:
        return cast(strings, TIMESTAMP_TYPE)
    except pa.ArrowInvalid:
        pass
    parsed = []
    for text in strings.to_pylist():
        moment = None if text is None else parse_timestamp(text)
        if moment is None and text is not None and not lenient:
            return None
        parsed.append(moment)
    return pa.array(parsed, TIMESTAMP_TYPE)


def _dates(strings: pa.Array) -> pa.Array | None:
    try:
        return cast(strings, pa.date32())
    except pa.ArrowInvalid:
        return None


def _render_text(values: list[t.Any]) -> pa.Array:
    dumps = orjson.dumps
    return pa.array(
        [value if value is None or type(value) is str else dumps(value) for value in values],
        pa.string(),
    )


def _render_json(values: list[t.Any]) -> pa.Array:
    dumps = orjson.dumps
    return pa.array([None if value is None else dumps(value) for value in values], pa.string())


def _integers(values: list[t.Any]) -> pa.Array | None:
    types = set(map(type, values))
    if not types <= _INTEGERS and not (
        types <= _NUMBERS and all(value.is_integer() for value in values if type(value) is float)
    ):
        return None
    try:
        return pa.array(values, pa.int64())
    except _CONVERSION_ERRORS:
        return None


def _numbers(values: list[t.Any]) -> pa.Array | None:
    if not set(map(type, values)) <= _NUMBERS:
        return None
    try:
        return pa.array(values, pa.float64())
    except _CONVERSION_ERRORS:
        return None


def _per_value(
    values: list[t.Any], parse: Callable[[str], t.Any], arrow_type: pa.DataType
) -> pa.Array | None:
    if not set(map(type, values)) <= _STRINGS:
        return None
    try:
        return pa.array([None if value is None else parse(value) for value in values], arrow_type)
    except (ValueError, binascii.Error):
        return None


def _base64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _decimal_texts(values: list[t.Any]) -> pa.Array | None:
    if not set(map(type, values)) <= _DECIMAL_TEXTS:
        return None
    texts = [
        None if value is None else format(value, "f") if type(value) is Decimal else str(value)
        for value in values
    ]
    return pa.array(texts, pa.string())


def convert(column: Column, values: list[t.Any]) -> pa.Array | None:
    """Convert one column's values to its Arrow type, or return None if one does not fit."""
    kind = column.kind
    if kind is Kind.DECIMAL:
        if not set(map(type, values)) <= _DECIMALS:
            return None
        try:
            return pa.array(values, column.arrow_type)
        except _CONVERSION_ERRORS:
            return None
    if kind is Kind.DECIMAL_TEXT:
        return _decimal_texts(values)
    if kind is Kind.TIME:
        return _per_value(values, time.fromisoformat, column.arrow_type)
    if kind is Kind.BINARY:
        return _per_value(values, _base64, column.arrow_type)
    if kind is Kind.UUID:
        return _per_value(values, UUID, column.arrow_type)
    if kind is Kind.LOCAL_TIMESTAMP:
        if not set(map(type, values)) <= _STRINGS:
            return None
        try:
            return cast(pa.array(values, pa.string()), column.arrow_type)
        except pa.ArrowInvalid:
            return None
    if kind is Kind.INTEGER:
        return _integers(values)
    if kind is Kind.NUMBER:
        return _numbers(values)
    if kind is Kind.TEXT:
        return _render_text(values)
    if kind is Kind.JSON:
        return _render_json(values)
    if kind in _ONLY:
        return (
            pa.array(values, column.arrow_type) if set(map(type, values)) <= _ONLY[kind] else None
        )
    if kind in (Kind.TIMESTAMP, Kind.DATE):
        if not set(map(type, values)) <= _STRINGS:
            return None
        strings = pa.array(values, pa.string())
        return timestamps(strings) if kind is Kind.TIMESTAMP else _dates(strings)
    try:
        return pa.array(values, column.arrow_type)
    except _CONVERSION_ERRORS:
        return None


def fits(column: Column, value: t.Any) -> bool:
    """Whether one value fits the column (the per-value twin of ``convert``)."""
    if value is None or column.kind in (Kind.TEXT, Kind.JSON):
        return True
    kind, kind_of = column.kind, type(value)
    if kind is Kind.INTEGER:
        return (kind_of is int or (kind_of is float and value.is_integer())) and (
            _INT64_MIN <= value <= _INT64_MAX
        )
    if kind is Kind.NUMBER:
        return kind_of is float or (kind_of is int and _INT64_MIN <= value <= _INT64_MAX)
    if kind is Kind.TIMESTAMP:
        return kind_of is str and parse_timestamp(value) is not None
    if kind is Kind.DATE:
        return kind_of is str and _dates(pa.array([value])) is not None
    if kind in _ONLY:
        return kind_of in _ONLY[kind]
    return convert(column, [value]) is not None


class BatchConverter:
    """Converts a stream's buffered records to a table of its columns, batch after batch."""

    def __init__(
        self,
        stream: str,
        columns: dict[str, Column],
        key_properties: tuple[str, ...],
        *,
        validate: bool,
        closed: bool,
        warn: Callable[[str], None],
        required: tuple[str, ...] = (),
    ) -> None:
        """``validate``: raise on misfits and on records lacking a ``required`` field;
        ``closed``: the schema forbids undeclared fields."""
        self._stream = stream
        self._columns = columns
        self._key_properties = key_properties
        self._validate = validate
        self._closed = closed
        self._required = tuple(name for name in required if isinstance(name, str))
        self._warn = warn
        self._warned: set[str] = set()
        decimals = tuple(
            name
            for name, column in columns.items()
            if column.kind in (Kind.DECIMAL, Kind.DECIMAL_TEXT)
        )
        self.decimals = DecimalReader.for_fields(decimals, Decimal) if decimals else None
        self._via_struct = [column for column in columns.values() if column.kind in _VIA_STRUCT]
        self._struct_type = pa.struct(
            [pa.field(column.name, _read_type(column)) for column in self._via_struct]
        )
        self.reads_json = all(column.kind in _READS_JSON for column in columns.values()) and not (
            validate and set(self._required) - columns.keys()
        )
        self._json_options = pj.ParseOptions(
            explicit_schema=pa.schema(
                [pa.field(column.name, _read_type(column)) for column in columns.values()]
            ),
            unexpected_field_behavior="error",
        )
        self._blocks = pj.ReadOptions(block_size=JSON_BLOCK_BYTES)
        self._nested_floats = any(
            column.kind is Kind.NESTED and _holds_floats(column.arrow_type)
            for column in columns.values()
        )
        self._must_hold = {
            *key_properties,
            *(self._required if validate else ()),
            *(name for name, column in columns.items() if validate and not column.nullable),
        }

    def from_json(self, records: bytes, count: int) -> pa.Table | None:
        """The table of ``count`` records, one JSON object a line, parsed by Arrow (only when
        ``reads_json``); None when the per-record path must decide (see the module docstring):
        a value Arrow refuses or reads otherwise, an undeclared field, or a null in a key,
        required or (validating) non-nullable field."""
        if self._nested_floats and any(text in records for text in _NOT_JSON):
            return None
        try:
            table = self._read_json(records)
        except _CONVERSION_ERRORS:
            return None
        if table.num_rows != count:  # a line held more than one object
            return None
        arrays: list[pa.ChunkedArray | pa.Array | None] = []
        for name, column in self._columns.items():
            array = table.column(name)
            if name in self._must_hold and array.null_count:
                return None
            if column.kind is Kind.NUMBER and any_not_finite(array):
                return None  # NaN or Infinity: not JSON
            if column.kind is Kind.TIMESTAMP:
                array = timestamps(array)
            elif column.kind is Kind.DATE:
                array = _dates(array)
            if array is None:
                return None
            arrays.append(array)
        return pa.Table.from_arrays(arrays, names=list(self._columns))

    def _read_json(self, records: bytes) -> pa.Table:
        """Parse in blocks; if that fails, as one block: a record longer than a block cannot
        be read in blocks, and any other refusal comes again."""
        try:
            return pj.read_json(
                pa.BufferReader(records), self._blocks, parse_options=self._json_options
            )
        except pa.ArrowInvalid:
            if len(records) <= JSON_BLOCK_BYTES:
                raise
        whole = pj.ReadOptions(block_size=len(records) + 1)
        return pj.read_json(pa.BufferReader(records), whole, parse_options=self._json_options)

    def table(self, rows: list[Row]) -> pa.Table:
        """The batch as a table with one column per field, in schema order."""
        arrays = self._struct_arrays(rows)
        for name, column in self._columns.items():
            if name not in arrays:
                arrays[name] = self._array(column, [row.get(name) for row in rows], rows)
        if self._validate:
            self._check_required(rows)
            self._check_nulls(arrays, rows)
        self._check_undeclared(arrays, rows)
        names = list(self._columns)
        return pa.Table.from_arrays([arrays[name] for name in names], names=names)

    def _struct_arrays(self, rows: list[Row]) -> dict[str, pa.Array]:
        if not self._via_struct:
            return {}
        try:
            struct = pa.array(rows, self._struct_type)
        except _CONVERSION_ERRORS:
            return {
                column.name: self._array(column, [row.get(column.name) for row in rows], rows)
                for column in self._via_struct
            }
        arrays = {}
        for index, column in enumerate(self._via_struct):
            array = struct.field(index)
            if column.kind is Kind.TIMESTAMP:
                array = timestamps(array)
            elif column.kind is Kind.DATE:
                array = _dates(array)
            if array is None:
                array = self._misfit(column, [row.get(column.name) for row in rows], rows)
            arrays[column.name] = array
        return arrays

    def _array(self, column: Column, values: list[t.Any], rows: list[Row]) -> pa.Array:
        array = convert(column, values)
        return self._misfit(column, values, rows) if array is None else array

    def _misfit(self, column: Column, values: list[t.Any], rows: list[Row]) -> pa.Array:
        """Raise (``validate_records``) or store the column in the first fallback kind that
        holds every value, warning once per field."""
        bad = next((index for index, value in enumerate(values) if not fits(column, value)), 0)
        shown, key = _show(values[bad]), self._key(rows[bad])
        if self._validate or column.kind not in FALLBACKS:
            raise RecordError(
                self._stream, key, column.name, f"expected {column.describe()}, got {shown}"
            )
        for kind in FALLBACKS[column.kind]:
            fallback = Column(column.name, kind, ARROW_TYPES[kind])
            if all(fits(fallback, value) for value in values):
                break
        if column.name not in self._warned:
            self._warned.add(column.name)
            self._warn(
                f"stream {self._stream!r}, field {column.name!r}: {shown} in record {key} is not "
                f"{column.describe()}; the files of a batch holding such values store the field "
                f"as {fallback.kind.value} (further cases are not reported)"
            )
        array = convert(fallback, values)
        assert array is not None, "the last fallback holds any value"
        return array

    def _check_required(self, rows: list[Row]) -> None:
        for name in self._required:
            for row in rows:
                if name not in row:
                    raise RecordError(self._stream, self._key(row), name, "required but missing")

    def _check_nulls(self, arrays: dict[str, pa.Array], rows: list[Row]) -> None:
        for name, column in self._columns.items():
            if column.nullable or not arrays[name].null_count:
                continue
            for row in rows:
                if name in row and row[name] is None:
                    raise RecordError(
                        self._stream,
                        self._key(row),
                        name,
                        f"null, but the schema's type for it ({column.describe()}) has no null",
                    )

    def _check_undeclared(self, arrays: dict[str, pa.Array], rows: list[Row]) -> None:
        """Undeclared fields are dropped: warn once per field, or fail on a closed schema."""
        present = sum(len(rows) - array.null_count for array in arrays.values())
        if sum(map(len, rows)) == present:  # every key of every record is a non-null field
            return
        undeclared = set(chain.from_iterable(rows)) - self._columns.keys()
        for name in sorted(undeclared - self._warned):
            row = next(row for row in rows if name in row)
            if self._validate and self._closed:
                raise RecordError(
                    self._stream,
                    self._key(row),
                    name,
                    "not declared in the schema, which has additionalProperties: false",
                )
            self._warned.add(name)
            self._warn(
                f"stream {self._stream!r}, field {name!r} (first in record {self._key(row)}) "
                "is not in the schema; it is not stored (further cases are not reported)"
            )

    def _key(self, row: Row) -> str:
        if self._key_properties:
            key = {name: row.get(name) for name in self._key_properties}
            return orjson.dumps(key, default=str).decode()
        return _show(row) + " (the stream has no key properties)"


def _holds_floats(arrow_type: pa.DataType) -> bool:
    """Whether a nested type holds float64 values at any depth."""
    if pa.types.is_list(arrow_type):
        return _holds_floats(arrow_type.value_type)
    if pa.types.is_struct(arrow_type):
        return any(_holds_floats(field.type) for field in arrow_type)
    return bool(pa.types.is_float64(arrow_type))


def _read_type(column: Column) -> pa.DataType:
    """The type a column is first read as: date-times and dates as strings."""
    return pa.string() if column.kind in (Kind.TIMESTAMP, Kind.DATE) else column.arrow_type


def _show(value: t.Any, limit: int = 120) -> str:
    text = orjson.dumps(value, default=str).decode()
    return text if len(text) <= limit else text[: limit - 3] + "..."
