"""BATCH messages (singer-sdk's extension): records in local JSON-lines files named by URL."""

from __future__ import annotations

import gzip
import typing as t
from pathlib import Path
from urllib.parse import unquote, urlparse

import orjson

from target_jsonl.errors import InputError

if t.TYPE_CHECKING:
    from collections.abc import Iterator

READ_BUFFER_BYTES = 1 << 20


def batch_records(number: int, message: dict[str, t.Any]) -> Iterator[tuple[str, int, object]]:
    """Yield ``(file URL, line number in the file, parsed line)`` for every line of every file
    in the manifest of the BATCH message read at input line ``number``."""
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
        path = _local_path(number, url)
        try:
            with _open(path, compression) as file:
                for line_number, line in enumerate(file, 1):
                    if not line.isspace():
                        yield url, line_number, _parse(number, url, line_number, line)
        except OSError as exc:
            raise InputError(number, f"cannot read BATCH file {url}: {exc}") from None


def _open(path: Path, compression: str) -> t.BinaryIO:
    if compression == "gzip":
        return t.cast("t.BinaryIO", gzip.open(path, "rb"))
    return path.open("rb", buffering=READ_BUFFER_BYTES)


def _parse(number: int, url: str, line_number: int, line: bytes) -> object:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        problem = f"BATCH file {url} line {line_number}: not valid JSON ({exc.msg})"
        raise InputError(number, problem) from None


def _local_path(number: int, url: str) -> Path:
    parsed = urlparse(url)
    if parsed.scheme not in ("", "file") or parsed.netloc not in ("", "localhost"):
        raise InputError(number, f"BATCH file {url} is not local (only file:// URLs)")
    return Path(unquote(parsed.path))
