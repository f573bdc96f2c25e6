"""Per-stream JSON-lines files: buffered appends, made durable on demand (flush + fsync)."""

from __future__ import annotations

import os
import typing as t

if t.TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType

BUFFER_BYTES = 1 << 20


class StreamFiles:
    """One file ``<folder>/<stream>.jsonl`` per stream, opened in append mode on first use."""

    def __init__(self, folder: Path) -> None:
        """Create the folder if it is missing."""
        folder.mkdir(parents=True, exist_ok=True)
        self._folder = folder
        self._handles: dict[str, t.BinaryIO] = {}
        self._unsynced: dict[str, t.BinaryIO] = {}
        self._created_file = False

    def append(self, stream: str, line: bytes) -> None:
        """Buffer one line for the stream's file."""
        handle = self._handles.get(stream) or self._open(stream)
        handle.write(line)
        self._unsynced[stream] = handle

    def sync(self) -> None:
        """Flush and fsync every file written since the last sync (and the folder, if it grew)."""
        for handle in self._unsynced.values():
            handle.flush()
            os.fsync(handle.fileno())
        self._unsynced.clear()
        if self._created_file:
            folder = os.open(self._folder, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
            self._created_file = False

    def close(self) -> None:
        """Close every file; buffered lines are written but not fsync'ed."""
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()

    def __enter__(self) -> StreamFiles:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _open(self, stream: str) -> t.BinaryIO:
        path = self._folder / f"{stream}.jsonl"
        self._created_file |= not path.exists()
        handle = self._handles[stream] = path.open("ab", buffering=BUFFER_BYTES)
        return handle
