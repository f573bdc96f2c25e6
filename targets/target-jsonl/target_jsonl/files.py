"""One file being written: hidden ``.part`` name, plain or gzip, sealed by fsync."""

from __future__ import annotations

import os
import typing as t

if t.TYPE_CHECKING:
    from pathlib import Path

GZIP_LEVEL = 6
PART_SUFFIX = ".part"


class PartFile:
    """A file under construction, ``.<final name>.part`` beside its final name.

    ``size`` counts the bytes of JSON lines written so far, before compression.
    """

    def __init__(self, final_path: Path, compression: str) -> None:
        """Create the hidden part file exclusively (an existing one is an error)."""
        self.final_path = final_path
        self.path = final_path.with_name(f".{final_path.name}{PART_SUFFIX}")
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        self._file = open(fd, "wb")  # noqa: SIM115 - closed by seal() or discard()
        self._sink: t.BinaryIO = self._file
        if compression == "gzip":
            import gzip  # only when used: start-up is part of every run's time

            self._sink = gzip.GzipFile(
                filename="", mode="wb", compresslevel=GZIP_LEVEL, fileobj=self._file
            )
        self.size = 0

    def write(self, lines: bytes | bytearray | memoryview) -> None:
        """Add whole encoded lines (a chunk of them: each call is one write, or one
        compression call for gzip)."""
        self._sink.write(lines)
        self.size += len(lines)

    def seal(self) -> None:
        """End the gzip stream, flush, fsync and close the file."""
        if self._sink is not self._file:
            self._sink.close()  # writes the gzip trailer; leaves the file open
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()

    def discard(self) -> None:
        """Close and remove the file without publishing it."""
        try:
            self._sink.close()
        finally:
            self._file.close()
            self.path.unlink(missing_ok=True)
