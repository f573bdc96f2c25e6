"""Where enforcement puts what it takes out of the stream:
``$DATIVO_HOME/quarantine/<tenant>/<job>/<run>/<stream>.jsonl``, one JSON line per record
discarded (``discard_row``) or changed (``discard_value``), with the rules it broke, the
contract's id and version, the run id and the record exactly as the source sent it.

Entries are written to disk (flushed and fsynced) before the chunk they come from goes on to
the target, so no state the target confirms can pass a record that is not on disk.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any

import orjson

_EXACT_INT_DIGITS = 18  # longer integers are kept as text (orjson writes 64-bit integers)


def exact_message(line: bytes) -> dict[str, Any]:
    """``line`` decoded so that encoding it with orjson gives every number back as written
    (decimals and big integers as ``orjson.Fragment``, never through a float)."""
    decoded: dict[str, Any] = json.loads(
        line, parse_float=orjson.Fragment, parse_int=_exact_int, parse_constant=_refuse
    )
    return decoded


def _exact_int(text: str) -> int | orjson.Fragment:
    return orjson.Fragment(text) if len(text) > _EXACT_INT_DIGITS else int(text)


def _refuse(text: str) -> None:
    raise ValueError(f"{text} is not JSON")


class Quarantine:
    """The quarantine folder of one run; files are opened on the first entry of a stream."""

    def __init__(self, folder: Path, run_id: str) -> None:
        self.folder = folder
        self.run_id = run_id
        self.files: dict[str, IO[bytes]] = {}
        self._unsynced: set[str] = set()

    def add(self, stream: str, entry: dict[str, Any]) -> None:
        """Append ``entry`` (the run id is added) to ``stream``'s file."""
        out = self.files.get(stream)
        if out is None:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            out = self.files[stream] = open(self.path(stream), "ab")  # noqa: SIM115
        out.write(orjson.dumps({"run_id": self.run_id, **entry}, option=orjson.OPT_APPEND_NEWLINE))
        self._unsynced.add(stream)

    def path(self, stream: str) -> Path:
        safe = stream.replace("/", "_").replace("\\", "_").lstrip(".") or "_"
        return self.folder / f"{safe}.jsonl"

    def sync(self) -> None:
        """Put every entry added so far on disk."""
        for stream in self._unsynced:
            out = self.files[stream]
            out.flush()
            os.fsync(out.fileno())
        self._unsynced.clear()

    def close(self) -> None:
        self.sync()
        for out in self.files.values():
            out.close()
