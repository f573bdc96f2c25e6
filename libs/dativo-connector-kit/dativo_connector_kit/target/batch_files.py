"""BATCH messages (singer-sdk's extension): records in local JSON-lines files named by URL.

``{"type": "BATCH", "stream": "users", "encoding": {"format": "jsonl", "compression": "gzip"},
"manifest": ["file:///tmp/users%201.jsonl.gz"]}``: each manifest entry is a ``file://`` URL
(percent-encoded, as singer-sdk writes them) or a plain path; each file holds one record per
line, gzip-compressed or not (``"none"``).
"""

from __future__ import annotations

import gzip
import typing as t
from pathlib import Path
from urllib.parse import unquote, urlsplit

import orjson

from dativo_connector_kit.errors import InputError

if t.TYPE_CHECKING:
    from collections.abc import Iterator

READ_BUFFER_BYTES = 1 << 20


def batch_records(
    number: int, message: dict[str, t.Any]
) -> Iterator[tuple[str, int, bytes, dict[str, t.Any]]]:
    """Yield ``(file URL, line number in the file, raw line, record)`` for every record of every
    file in the manifest of the BATCH message read at input line ``number``."""
    encoding = message.get("encoding")
    if not isinstance(encoding, dict) or encoding.get("format") != "jsonl":
        raise InputError(number, f"BATCH encoding {encoding!r} is not supported (format jsonl)")
    compression = encoding.get("compression") or "none"
    if compression not in ("none", "gzip"):
        raise InputError(number, f"BATCH compression {compression!r} is not supported")
    manifest = message.get("manifest")
    if not isinstance(manifest, list) or not all(isinstance(url, str) for url in manifest):
        raise InputError(number, 'BATCH has no "manifest" list of file URLs')
    for url in manifest:
        path = local_path(number, url)
        try:
            with _open(path, compression) as lines:
                for line_number, line in enumerate(lines, 1):
                    if not line.isspace():
                        yield url, line_number, line, _record(number, url, line_number, line)
        except OSError as exc:
            raise InputError(number, f"cannot read BATCH file {url}: {exc}") from None


def local_path(number: int, url: str) -> Path:
    """The local file a manifest entry names (``file://`` URLs are unquoted)."""
    parts = urlsplit(url)
    if parts.scheme == "file" and parts.netloc in ("", "localhost"):
        return Path(unquote(parts.path))
    if parts.scheme == "":
        return Path(url)
    raise InputError(number, f"BATCH file {url} is not local (only file:// URLs)")


def _open(path: Path, compression: str) -> t.BinaryIO:
    if compression == "gzip":
        return t.cast("t.BinaryIO", gzip.open(path, "rb"))
    return path.open("rb", buffering=READ_BUFFER_BYTES)


def _record(number: int, url: str, line_number: int, line: bytes) -> dict[str, t.Any]:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        problem = f"BATCH file {url} line {line_number}: not valid JSON ({exc.msg})"
        raise InputError(number, problem) from None
    if type(record) is not dict:
        raise InputError(number, f"BATCH file {url} line {line_number}: not a JSON object")
    return record
