"""A mapped stream's compact RECORD lines, mapped a run of lines at a time.

A run is lines in a row written ``{"type":"RECORD","stream":S,"record":R}`` (as singer-sdk
and most taps write them) for one mapped stream S. The run is decoded in one msgspec call
and its kept messages encoded again in one call (``version`` and ``time_extracted`` as they
came); in between, the map's generated loop rewrites the records. The values of a record stay
undecoded (``msgspec.Raw``, JSON text only sliced) unless an expression reads the whole
record: an expression decodes the values it reads, a renamed value moves as the source wrote
it. When every record of a run holds the properties of its first one, the run is decoded
into structs made for those properties and mapped into structs (no dict per record; a record
holding them in another order goes on in the first one's order); other runs into dicts.
Anything unusual (another key in a message, a record that is not an object, an expression
failing) makes ``rewrite`` return None, and the caller maps the run line by line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import msgspec

from dativo_ingest.protocol.expressions import FAILURES

Batch = Callable[[list[Any]], list[Any]]  # decoded messages -> the mapped ones it keeps
Decode = Callable[[bytes], list[Any]]
_OPTIONAL = ("version", "time_extracted")  # the other keys of a Singer RECORD, kept as written
_MAX_LAYOUTS = 16  # structs made per stream; runs of further property sets use dicts
_TRIES = 4  # runs a struct may misfit (a record holding other properties) before it must fit
# at least as many as it misfits


class MapCode(Protocol):
    """A stream map as generated loops (``StreamMap``)."""

    def batch(self) -> tuple[Batch, bool]: ...

    def output_keys(self, keys: tuple[str, ...]) -> list[str]: ...

    def layout_batch(
        self, keys: tuple[str, ...], mapped: type
    ) -> tuple[Batch, frozenset[str]] | None: ...


@dataclass
class _Way:
    """A decoder and the loop for what it decodes, with the runs it fitted and misfitted."""

    decode: Decode
    batch: Batch
    fits: int = 0
    misfits: int = 0


class RunMap:
    """How the compact RECORD lines of one mapped stream are rewritten; ``head``: the lines'
    start, ``{"type":"RECORD","stream":S,"record":`` as the source writes it."""

    def __init__(self, stream: str, head: bytes, code: MapCode) -> None:
        self.head = head
        self.stream = stream
        self.code = code
        batch, self.raw = code.batch()
        values: Any = msgspec.Raw if self.raw else Any
        self._dicts = _Way(self._decoder(dict[str, values]), batch)
        self._keys = msgspec.json.Decoder(self._message(dict[str, msgspec.Raw])).decode
        self._layouts: dict[tuple[str, ...], _Way | None] = {}
        self._encode = msgspec.json.Encoder().encode_lines

    def rewrite(self, run: list[bytes]) -> tuple[bytes, int] | None:
        """The ``run`` of lines mapped, newline-terminated, and the number of records kept;
        None when a line or a record does not fit the fast path."""
        joined = b"\n".join(run)
        for way in self._ways(run[0]):
            try:
                kept = way.batch(way.decode(joined))
                data = self._encode(kept)
            except (msgspec.MsgspecError, *FAILURES):
                way.misfits += 1
                continue
            way.fits += 1
            return data, len(kept)
        return None

    def _ways(self, first: bytes) -> Iterator[_Way]:
        """The structs made for ``first``'s properties, if any and if they mostly fit the
        runs they were tried on, then dicts."""
        if self.raw:
            try:
                keys = tuple(self._keys(first).record)
            except msgspec.MsgspecError:
                keys = None
            layout = None if keys is None else self._layout(keys)
            if layout is not None and (layout.misfits < _TRIES or layout.misfits <= layout.fits):
                yield layout
        yield self._dicts

    def _layout(self, keys: tuple[str, ...]) -> _Way | None:
        """The decoder and loop for records of properties ``keys``; None when the map cannot
        take them as structs (or too many property sets were seen)."""
        if keys in self._layouts or len(self._layouts) >= _MAX_LAYOUTS:
            return self._layouts.get(keys)
        out = self.code.output_keys(keys)
        mapped = _struct("MappedRecord", out, [Any] * len(out))
        made = self.code.layout_batch(keys, mapped)
        way = None
        if made is not None:
            batch, decoded = made
            kinds = [Any if key in decoded else msgspec.Raw for key in keys]
            record = _struct("Record", keys, kinds, forbid_unknown_fields=True)
            way = _Way(self._decoder(record), batch)
        self._layouts[keys] = way
        return way

    def _decoder(self, record: Any) -> Decode:
        return msgspec.json.Decoder(self._message(record)).decode_lines

    def _message(self, record: Any) -> Any:
        """The struct of this stream's RECORD messages whose record is a ``record``."""
        return msgspec.defstruct(
            "RecordMessage",
            [
                ("type", Literal["RECORD"]),
                ("stream", Literal[self.stream]),
                ("record", record),
                *((key, msgspec.Raw | msgspec.UnsetType, msgspec.UNSET) for key in _OPTIONAL),
            ],
            forbid_unknown_fields=True,
            gc=False,
        )


def _struct(name: str, keys: Sequence[str], kinds: Sequence[Any], **options: Any) -> type:
    """A struct holding ``keys``, ``keys[i]`` as attribute ``f{i}`` of type ``kinds[i]``."""
    return msgspec.defstruct(
        name,
        [(f"f{i}", kind) for i, kind in enumerate(kinds)],
        rename={f"f{i}": key for i, key in enumerate(keys)},
        gc=False,
        **options,
    )
