"""The target's errors, on the connector kit's tree (``ConnectorError`` exits 1,
``ConfigurationError`` 2, ``ConnectionError`` 3, ``AuthenticationError`` 4)."""

from __future__ import annotations

from dativo_connector_kit import ConnectorError


class InputError(ConnectorError):
    """A line of input is not a usable Singer message."""

    def __init__(self, line_number: int, problem: str) -> None:
        """Name the input line (1-based) and what is wrong with it."""
        super().__init__(f"input line {line_number}: {problem}")
        self.line_number = line_number


class SchemaError(ConnectorError):
    """A SCHEMA cannot be mapped to Parquet, or cannot replace the stream's previous one."""


class RecordError(ConnectorError):
    """A record does not fit its stream's schema (raised with ``validate_records``)."""

    def __init__(self, stream: str, key: str, field: str, problem: str) -> None:
        """Name the stream, the record (by its key) and the field."""
        super().__init__(f"stream {stream!r}, record {key}, field {field!r}: {problem}")
        self.stream = stream
        self.field = field
