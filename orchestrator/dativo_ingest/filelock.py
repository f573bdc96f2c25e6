"""A bounded, exclusive lock on a file, for work one process at a time must do (an image build,
a connector install) while other dativo processes wait for it and then reuse the result."""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Iterator
from pathlib import Path


class LockWaitTimeoutError(TimeoutError):
    """Another process held the lock for longer than the caller would wait."""


@contextlib.contextmanager
def exclusive(path: Path, wait_seconds: float) -> Iterator[None]:
    """Hold ``path``'s lock; wait at most ``wait_seconds`` for another holder to let go."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as lock:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LockWaitTimeoutError(
                        f"{path} held for more than {wait_seconds:.0f}s"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
