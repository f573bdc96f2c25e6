"""A mapped stream's compact RECORD lines, mapped a run of lines at a time.

A run is lines in a row written ``{"type":"RECORD","stream":S,"record":R}`` (as singer-sdk
and most taps write them) for one mapped stream S. The run is decoded in one msgspec call,
each record into a dict whose values stay undecoded (``msgspec.Raw``, JSON text only sliced)
unless an expression reads the whole record; the map's generated loop rewrites the records
(an expression decodes only the values it reads, a renamed value moves as the source wrote
it), and the kept messages are encoded again in one call (``version`` and ``time_extracted``
as they came). Anything unusual (another key in a message, a record that is not an object,
an expression failing) makes ``rewrite`` return None, and the caller maps the run line by
line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import msgspec

from dativo_ingest.protocol.expressions import FAILURES

Batch = Callable[[list[Any]], list[Any]]  # decoded messages -> the mapped ones it keeps
_OPTIONAL = ("version", "time_extracted")  # the other keys of a Singer RECORD, kept as written


class RunMap:
    """How the compact RECORD lines of one mapped stream are rewritten.

    ``head``: the lines' start, ``{"type":"RECORD","stream":S,"record":`` as the source
    writes it; ``batch``: the map's generated loop over decoded messages; ``raw``: whether
    it takes records of undecoded values."""

    def __init__(self, stream: str, head: bytes, batch: Batch, raw: bool) -> None:
        self.head = head
        self.batch = batch
        values: Any = msgspec.Raw if raw else Any
        message = msgspec.defstruct(
            "RecordMessage",
            [
                ("type", Literal["RECORD"]),
                ("stream", Literal[stream]),
                ("record", dict[str, values]),
                *((key, msgspec.Raw | msgspec.UnsetType, msgspec.UNSET) for key in _OPTIONAL),
            ],
            forbid_unknown_fields=True,
            gc=False,
        )
        self._decode = msgspec.json.Decoder(message).decode_lines
        self._encode = msgspec.json.Encoder().encode_lines

    def rewrite(self, run: list[bytes]) -> tuple[bytes, int] | None:
        """The ``run`` of lines mapped, newline-terminated, and the number of records kept;
        None when a line or a record does not fit the fast path."""
        try:
            kept = self.batch(self._decode(b"\n".join(run)))
            return self._encode(kept), len(kept)
        except (msgspec.MsgspecError, *FAILURES):
            return None
