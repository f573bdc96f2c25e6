"""Records of a Singer SDK BATCH message: JSON-lines files (plain or gzip) named by a manifest."""

from __future__ import annotations

import gzip
import typing as t
from pathlib import Path
from urllib.parse import unquote, urlsplit

import orjson

from target_postgres.errors import InputError

if t.TYPE_CHECKING:
    from collections.abc import Iterator


def read_batch_records(number: int, message: dict[str, t.Any]) -> Iterator[tuple[bytes, dict]]:
    """Yield ``(raw JSON, parsed record)`` for every record of the BATCH message's files."""
    encoding = message.get("encoding") or {}
    if not isinstance(encoding, dict) or encoding.get("format") != "jsonl":
        raise InputError(number, 'BATCH: only the "jsonl" format is supported')
    compression = encoding.get("compression") or "none"
    if compression not in ("none", "gzip"):
        raise InputError(number, f"BATCH: unsupported compression {compression!r}")
    manifest = message.get("manifest")
    if not isinstance(manifest, list) or not all(isinstance(url, str) for url in manifest):
        raise InputError(number, 'BATCH has no "manifest" list of file URLs')
    for url in manifest:
        path = _local_path(number, url)
        try:
            with gzip.open(path) if compression == "gzip" else path.open("rb") as lines:
                yield from _records(number, url, lines)
        except OSError as exc:
            raise InputError(number, f"BATCH: cannot read {url}: {exc}") from None


def _records(number: int, url: str, lines: t.IO[bytes]) -> Iterator[tuple[bytes, dict]]:
    for position, line in enumerate(lines, 1):
        raw = line.strip()
        if not raw:
            continue
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InputError(number, f"BATCH file {url} line {position}: {exc.msg}") from None
        if type(record) is not dict:
            raise InputError(number, f"BATCH file {url} line {position}: not a JSON object")
        yield raw, record


def _local_path(number: int, url: str) -> Path:
    parts = urlsplit(url)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    if parts.scheme == "":
        return Path(url)
    raise InputError(number, f"BATCH: only local files are supported, not {url!r}")
