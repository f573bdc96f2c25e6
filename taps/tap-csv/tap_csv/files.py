"""Finding a stream's files (file, folder or glob) and opening them as CSV rows."""

from __future__ import annotations

import csv
import glob
import gzip
import stat
import typing as t
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dativo_connector_kit import ConfigurationError

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_csv.settings import FileSpec

READ_BUFFER_BYTES = 1 << 20
FIELD_CHARACTERS_MAX = 1 << 24  # csv's default is 131,072: too small for text or JSON blobs
_GLOB_CHARACTERS = frozenset("*?[")


@dataclass(frozen=True)
class SourceFile:
    """One file of a stream, with its modification time in nanoseconds."""

    path: str
    mtime_ns: int


def list_files(spec: FileSpec) -> list[SourceFile]:
    """The stream's files in path order; ``ConfigurationError`` if there are none."""
    pattern = spec.path
    if Path(pattern).is_dir():
        paths = [str(path) for path in Path(pattern).iterdir() if not path.name.startswith(".")]
    elif _GLOB_CHARACTERS.intersection(pattern):
        paths = glob.glob(pattern, recursive=True)  # noqa: PTH207 (Path.glob: relative only)
    else:
        paths = [pattern] if Path(pattern).exists() else []
    files = []
    for path in sorted(paths):
        try:
            status = Path(path).stat()
        except OSError as exc:
            raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from exc
        if stat.S_ISREG(status.st_mode):
            files.append(SourceFile(path, status.st_mtime_ns))
    if not files:
        raise ConfigurationError(f"no file matches path {pattern!r}")
    return files


def _is_gzip(spec: FileSpec, path: str) -> bool:
    return spec.compression == "gzip" or (spec.compression == "infer" and path.endswith(".gz"))


@contextmanager
def open_rows(spec: FileSpec, path: str) -> Iterator[t.Any]:
    """A csv reader over the file (``line_num`` counts its lines); decompressed if gzip."""
    csv.field_size_limit(FIELD_CHARACTERS_MAX)  # process-wide; the same value every time
    with (
        gzip.open(path, "rt", encoding=spec.encoding, newline="")
        if _is_gzip(spec, path)
        else open(path, encoding=spec.encoding, newline="", buffering=READ_BUFFER_BYTES)
    ) as handle:
        yield csv.reader(handle, **_dialect(spec))


def _dialect(spec: FileSpec) -> dict[str, t.Any]:
    """csv.reader keyword arguments for the entry."""
    if not spec.quotechar:
        return {"delimiter": spec.delimiter, "quoting": csv.QUOTE_NONE}
    return {"delimiter": spec.delimiter, "quotechar": spec.quotechar}
