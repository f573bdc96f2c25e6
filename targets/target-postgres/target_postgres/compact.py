"""Compact RECORD lines straight to COPY rows: one msgspec decode into a struct typed after the
table's columns, no Python dict, no per-value conversion but a few checks.

The loop hands over lines starting ``{"type":"RECORD","stream":S,"record":{`` (see the
connector kit's ``write_compact_records``). A stream takes this path when every column it loads
has a type listed below; a line takes it when it decodes into the typed struct and passes the
checks, so the row holds exactly what ``RowMaker.row`` would make of the decoded message:

- integer columns take JSON integers, float columns numbers, boolean columns booleans;
- text, date/time, uuid and interval columns take JSON strings, as they are;
- ``numeric`` columns take the number's own text (every digit, no float on the way), and
  ``numeric(p,s)`` only numbers written with at most ``p - s`` digits before the point and
  ``s`` after it (so nothing is rounded);
- ``jsonb`` columns take the value's own JSON text (JSON ``null`` is SQL NULL).

Every value of a row is then an ``int``, ``float``, ``bool``, ``str`` or None, which psycopg
formats for COPY in C. The structs are left out of the garbage collector (they hold no
containers), which halves msgspec's decoding time.

Anything else (another JSON type, a string holding ``\\u0000``, an exponent bound for
``numeric(p,s)``, a key property missing or null) ends the rows ``rows`` makes, and the line
takes the general path: decoded, checked and converted value by value, failing there with its
precise error. Streams with other column types (arrays, bytea, json) always take it.
"""

from __future__ import annotations

import re
import typing as t

import msgspec

from target_postgres.sqltypes import numeric_bounds
from target_postgres.streams import DELETED_AT_COLUMN

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from target_postgres.streams import StreamSpec

Raw = msgspec.Raw
_NULL = b"null"
_STRING_COLUMN = re.compile(
    r"text|uuid|date|interval|character varying(\(\d+\))?|(time|timestamp)(\(\d\))? with(out)? "
    r"time zone"
)
_PYTHON_TYPES: dict[str, t.Any] = {
    "bigint": int | None,
    "integer": int | None,
    "smallint": int | None,
    "double precision": float | None,
    "real": float | None,
    "boolean": bool | None,
}
_ANY_NUMBER = re.compile(rb"-?\d")  # how a JSON number starts (msgspec checked the rest)
_DECODE_ERRORS = (msgspec.ValidationError, msgspec.DecodeError)
_astuple = msgspec.structs.astuple
_NUL_ESCAPE = re.compile(rb"\\u0000").search  # faster than bytes.__contains__ on such lines


def _numeric(pattern: re.Pattern[bytes], full: bool) -> Callable[[Raw], object]:
    """The check of a numeric column's raw value: its text, None for null, else ``_FALLBACK``."""
    matches = pattern.fullmatch if full else pattern.match

    def check(value: Raw) -> object:
        if matches(value):  # type: ignore[call-overload]
            return str(value, "ascii")
        return None if bytes(value) == _NULL else _FALLBACK

    return check


def _json(value: Raw) -> object:
    return None if len(value) == 4 and bytes(value) == _NULL else str(value, "utf-8")


def _scaled(precision: int, scale: int) -> re.Pattern[bytes]:
    """Numbers that ``numeric(precision, scale)`` holds exactly, written without exponent."""
    whole = precision - scale
    digits = rb"(0|[1-9]\d{0,%d})" % (whole - 1) if whole > 0 else rb"0"
    fraction = rb"(\.\d{1,%d})?" % scale if scale > 0 else b""
    return re.compile(rb"-?" + digits + fraction)


_FALLBACK = object()  # a raw value the general path must handle


def _field(column_type: str) -> tuple[t.Any, Callable[[Raw], object] | None] | None:
    """The struct type of a column's value and the check of its raw text; None: unsupported."""
    if column_type in _PYTHON_TYPES:
        return _PYTHON_TYPES[column_type], None
    if _STRING_COLUMN.fullmatch(column_type):
        return str | None, None
    if column_type == "numeric":
        return Raw, _numeric(_ANY_NUMBER, full=False)
    if bounds := numeric_bounds(column_type):
        return Raw, _numeric(_scaled(*bounds), full=True)
    if column_type == "jsonb":
        return Raw, _json
    return None


class CompactRows:
    """Decodes one stream's compact RECORD lines into COPY rows (see the module docstring)."""

    def __init__(
        self,
        decoder: msgspec.json.Decoder[t.Any],
        checks: list[tuple[int, Callable[[Raw], object]]],
        sequence: int | None,
        sync_started_at: int,
    ) -> None:
        """Use ``build``; ``sequence`` None: the stream has no metadata columns."""
        self._decode = decoder.decode
        self._checks = checks
        self._sequence = sequence
        self._sync_started_at = sync_started_at
        self._staged = False

    def to_staging(self) -> None:
        """Make rows for the stream's staging table from now on (see ``RowMaker``)."""
        self._staged = True

    @classmethod
    def build(
        cls, spec: StreamSpec, column_types: dict[str, str], sequence: int, sync_started_at: int
    ) -> CompactRows | None:
        """The decoder of a stream whose columns all have supported types, else None."""
        fields: list[tuple[str, t.Any, t.Any]] = []
        checks = []
        for index, name in enumerate(spec.record_columns):
            found = _field(column_types[name])
            if found is None:
                return None
            kind, check = found
            required = name in spec.key_properties
            if required and kind is not Raw:
                kind = t.get_args(kind)[0]  # not null
            elif required:
                return None  # a raw key would not compare equal to the general path's
            fields.append((f"c{index}", kind, msgspec.NODEFAULT if required else _default(kind)))
            if check is not None:
                checks.append((index, check))
        rename = {f"c{index}": name for index, name in enumerate(spec.record_columns)}
        if spec.with_metadata:
            fields.append(("deleted_at", str | None, None))
            rename["deleted_at"] = DELETED_AT_COLUMN
        record = msgspec.defstruct("Record", fields, rename=rename, gc=False)
        envelope: list[tuple[str, t.Any] | tuple[str, t.Any, t.Any]] = [
            ("type", t.Literal["RECORD"]),  # literals: checked by msgspec, no string made
            ("stream", t.Literal[spec.stream]),
            ("record", record),
        ]
        if spec.with_metadata:
            envelope += [("time_extracted", str | None, None), ("version", int | None, None)]
        message = msgspec.defstruct("Message", envelope, gc=False)
        return cls(
            msgspec.json.Decoder(message),
            checks,
            sequence if spec.with_metadata else None,
            sync_started_at,
        )

    def rows(self, lines: list[bytes]) -> list[list[t.Any]]:
        """The COPY rows of compact RECORD lines, up to the first that needs the general path
        (one loop over the run: no call per line but msgspec's and the checks')."""
        decode, checks, made = self._decode, self._checks, []
        append, astuple, nul_escape = made.append, _astuple, _NUL_ESCAPE
        sequence, staged = self._sequence, self._staged
        for line in lines:
            try:
                message = decode(line)
            except _DECODE_ERRORS:
                break
            if nul_escape(line):
                break
            row = list(astuple(message.record))
            for index, check in checks:
                if (value := check(row[index])) is _FALLBACK:
                    return made
                row[index] = value
            if sequence is not None and staged:  # row[-1] is the record's _sdc_deleted_at
                row[-1:] = (message.time_extracted, row[-1], message.version)  # those staged
            elif sequence is not None:  # in METADATA_COLUMNS order
                row[-1:] = (
                    message.time_extracted,
                    "now",
                    "now",
                    row[-1],
                    sequence,
                    message.version,
                    self._sync_started_at,
                )
            append(row)
        return made


def _default(kind: t.Any) -> object:
    return Raw(_NULL) if kind is Raw else None
