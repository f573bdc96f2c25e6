"""The destination folder: file names, atomic publishing, leftovers of crashed runs.

A stream's records go to a hidden part file; publishing seals it (fsync), hard-links it to its
final name (never replacing a file) and removes the part name; a commit publishes every open
file, then fsyncs the folder. Every writer holds a shared ``flock`` on the folder; one that gets
it exclusively at start knows no other writer is alive and removes leftover part files.
"""

from __future__ import annotations

import fcntl
import os
import re
import sys
import time
import typing as t

from target_jsonl.files import PART_SUFFIX, PartFile

if t.TYPE_CHECKING:
    from pathlib import Path

LEFTOVER_PART = re.compile(rf"^\..+\.jsonl(\.gz)?{re.escape(PART_SUFFIX)}$")


class Destination:
    """Files ``<stream>-<run start, UTC>-<sequence>.jsonl[.gz]`` in one folder."""

    def __init__(self, folder: Path, compression: str, max_file_bytes: int | None) -> None:
        """Create the folder if missing, lock it and remove leftovers when no writer is alive."""
        folder.mkdir(parents=True, exist_ok=True)
        self._folder = folder
        self._compression = compression
        self._extension = ".jsonl.gz" if compression == "gzip" else ".jsonl"
        self._max_bytes = max_file_bytes or sys.maxsize
        self._stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        self._parts: dict[str, PartFile] = {}
        self._sequence: dict[str, int] = {}
        self.files_published = 0
        self._dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self.leftovers_removed = self._lock_and_clean()

    @property
    def file_bytes(self) -> int:
        """How many bytes of lines a new file takes before it is full (published)."""
        return self._max_bytes

    def write(self, stream: str, lines: bytes | bytearray | memoryview) -> int:
        """Append whole lines to the stream's open file, and publish the file once it reached
        ``max_file_bytes``. Return how many more bytes the stream's file takes before that."""
        part = self._parts.get(stream)
        if part is None:
            part = self._parts[stream] = self._open(stream)
        part.write(lines)
        if part.size >= self._max_bytes:
            self._publish([(stream, self._parts.pop(stream))])
            return self._max_bytes
        return self._max_bytes - part.size

    def commit(self) -> None:
        """Publish every open file; when this returns, all of them are durable and visible."""
        parts = list(self._parts.items())
        self._parts.clear()
        self._publish(parts)

    def close(self) -> None:
        """Remove the files not committed and release the folder."""
        try:
            for part in self._parts.values():
                part.discard()
            self._parts.clear()
        finally:
            os.close(self._dir_fd)

    def _publish(self, parts: list[tuple[str, PartFile]]) -> None:
        if not parts:
            return
        for _stream, part in parts:
            part.seal()
        for stream, part in parts:
            self._link(stream, part)
        os.fsync(self._dir_fd)

    def _link(self, stream: str, part: PartFile) -> None:
        """Give the sealed part its final name; if another writer took that name, the next."""
        final = part.final_path
        while True:
            try:
                os.link(part.path, final)
                break
            except FileExistsError:
                final = self._next_path(stream)
        part.path.unlink()
        self.files_published += 1

    def _open(self, stream: str) -> PartFile:
        while True:
            path = self._next_path(stream)
            if path.exists():
                continue
            try:
                return PartFile(path, self._compression)
            except FileExistsError:
                continue

    def _next_path(self, stream: str) -> Path:
        number = self._sequence.get(stream, 0) + 1
        self._sequence[stream] = number
        return self._folder / f"{stream}-{self._stamp}-{number:06d}{self._extension}"

    def _lock_and_clean(self) -> int:
        """Take the folder's shared lock; first, if no writer holds it, remove leftovers."""
        try:
            fcntl.flock(self._dir_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fcntl.flock(self._dir_fd, fcntl.LOCK_SH)
            return 0
        removed = 0
        for path in self._folder.iterdir():
            if LEFTOVER_PART.match(path.name):
                path.unlink()
                removed += 1
        if removed:
            os.fsync(self._dir_fd)
        fcntl.flock(self._dir_fd, fcntl.LOCK_SH)
        return removed
