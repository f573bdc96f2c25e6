"""Reading a connector's output line by line with bounded memory."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO


def bounded_lines(stream: IO[bytes], limit: int) -> Iterator[tuple[bytes, int]]:
    """Yield ``(line, dropped)`` for each line of ``stream``, newline stripped.

    A line longer than ``limit`` bytes is cut to its first ``limit`` bytes; ``dropped``
    counts the bytes that were skipped.
    """
    if not hasattr(stream, "peek"):  # unbuffered: readline would read byte by byte
        with open(stream.fileno(), "rb", closefd=False) as buffered:
            yield from bounded_lines(buffered, limit)
        return
    reader = stream
    while chunk := reader.readline(limit):
        if chunk.endswith(b"\n"):
            yield chunk[:-1], 0
            continue
        dropped = 0
        while (rest := reader.readline(limit)) and not rest.endswith(b"\n"):
            dropped += len(rest)
        dropped += max(len(rest) - 1, 0)
        yield chunk, dropped
