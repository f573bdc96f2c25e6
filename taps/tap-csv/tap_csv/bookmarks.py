"""The `file_modified_time` bookmark: which files a run still has to read.

Stored in the stream's state as ``{"file_modified_time": {"mtime_ns": N, "paths": [...]}}``:
the newest modification time read (nanoseconds since the epoch) and every file read with
exactly that time, so a file whose time equals the bookmark is neither skipped nor re-read.
Files are read oldest first, so the bookmark advances file by file and a run stopped midway
resumes after the last file it finished.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from dativo_connector_kit import ConfigurationError

if t.TYPE_CHECKING:
    from collections.abc import Iterable, MutableMapping

    from tap_csv.files import SourceFile

STATE_KEY = "file_modified_time"


@dataclass
class ModifiedTimeBookmark:
    """The newest modification time read, and the files read at exactly that time."""

    mtime_ns: int | None = None
    paths: set[str] = field(default_factory=set)

    @classmethod
    def from_state(cls, stream_state: t.Mapping[str, t.Any]) -> ModifiedTimeBookmark:
        stored = stream_state.get(STATE_KEY)
        if stored is None:
            return cls()
        try:
            return cls(int(stored["mtime_ns"]), set(stored["paths"]))
        except (TypeError, KeyError, ValueError) as exc:
            raise ConfigurationError(
                f"the state's {STATE_KEY!r} bookmark is not "
                f'{{"mtime_ns": <int>, "paths": [...]}}: {stored!r}'
            ) from exc

    def unread(self, files: Iterable[SourceFile]) -> list[SourceFile]:
        """The files new or modified since the bookmark, oldest first (then by path)."""
        return sorted(
            (source for source in files if self._is_unread(source)),
            key=lambda source: (source.mtime_ns, source.path),
        )

    def _is_unread(self, source: SourceFile) -> bool:
        if self.mtime_ns is None or source.mtime_ns > self.mtime_ns:
            return True
        return source.mtime_ns == self.mtime_ns and source.path not in self.paths

    def advance(self, source: SourceFile) -> None:
        """Record that `source` was read whole (files come oldest first)."""
        if self.mtime_ns is None or source.mtime_ns > self.mtime_ns:
            self.mtime_ns, self.paths = source.mtime_ns, {source.path}
        else:
            self.paths.add(source.path)

    def save(self, stream_state: MutableMapping[str, t.Any]) -> None:
        stream_state[STATE_KEY] = {"mtime_ns": self.mtime_ns, "paths": sorted(self.paths)}
