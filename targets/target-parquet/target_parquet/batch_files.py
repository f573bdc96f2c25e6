"""BATCH messages (Singer SDK): records read from the local JSON-lines files they list.

``{"type": "BATCH", "stream": "users", "encoding": {"format": "jsonl", "compression": "gzip"},
"manifest": ["file:///tmp/users-1.json.gz"]}``: each manifest entry is a ``file://`` URI or a
path, holding one record (a JSON object) per line, gzip-compressed or not (``"none"``).
"""

from __future__ import annotations

import gzip
import typing as t
from pathlib import Path

import orjson

from target_parquet.errors import InputError

if t.TYPE_CHECKING:
    from collections.abc import Iterator

_OPENERS: dict[str | None, t.Callable[[Path], t.BinaryIO]] = {
    None: lambda path: path.open("rb"),
    "none": lambda path: path.open("rb"),
    "gzip": lambda path: t.cast("t.BinaryIO", gzip.open(path, "rb")),  # noqa: SIM115
}


def records(number: int, message: dict[str, t.Any]) -> Iterator[dict[str, t.Any]]:
    """Yield the records of every file the BATCH message on input line ``number`` lists."""
    encoding = message.get("encoding")
    manifest = message.get("manifest")
    if not isinstance(encoding, dict) or encoding.get("format") != "jsonl":
        raise InputError(number, 'BATCH encoding must be {"format": "jsonl", ...}')
    opener = _OPENERS.get(encoding.get("compression"))
    if opener is None:
        compression = encoding.get("compression")
        raise InputError(number, f"BATCH compression must be gzip or none, got {compression!r}")
    if not isinstance(manifest, list) or not all(isinstance(uri, str) for uri in manifest):
        raise InputError(number, 'BATCH "manifest" must be a list of file URIs')
    for uri in manifest:
        if "://" in uri and not uri.startswith("file://"):
            raise InputError(number, f"BATCH file {uri!r}: only local files (file://) are read")
        path = Path(uri.removeprefix("file://"))
        try:
            with opener(path) as lines:
                for line_number, line in enumerate(lines, 1):
                    record = _record(line)
                    if record is None:
                        if line.isspace():
                            continue
                        raise InputError(
                            number, f"BATCH file {uri!r} line {line_number}: not a JSON object"
                        )
                    yield record
        except OSError as exc:
            raise InputError(number, f"BATCH file {uri!r} cannot be read: {exc}") from None


def _record(line: bytes) -> dict[str, t.Any] | None:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
