"""The tap's own error: a file's content cannot be used (exit 1, like any ConnectorError).

Configuration problems raise the kit's ``ConfigurationError`` (exit 2) instead.
"""

from __future__ import annotations

from dativo_connector_kit import ConnectorError


class DataError(ConnectorError):
    """A row or a file's content cannot be read or converted; names the file and line."""

    def __init__(self, stream: str, path: str, line: int, reason: str) -> None:
        super().__init__(f"stream {stream!r}: {path} line {line}: {reason}")
        self.stream = stream
        self.path = path
        self.line = line
        self.reason = reason
