"""The target's errors, on the connector kit's tree (``ConnectorError`` exits 1,
``ConfigurationError`` 2, ``ConnectionError`` 3, ``AuthenticationError`` 4). ``SchemaError``
is the kit's: the loop reports it with the SCHEMA's input line."""

from __future__ import annotations

from dativo_connector_kit import ConnectorError, SchemaError

__all__ = ["RecordError", "SchemaError"]


class RecordError(ConnectorError):
    """A record does not fit its stream's schema (raised with ``validate_records``)."""

    def __init__(self, stream: str, key: str, field: str, problem: str) -> None:
        """Name the stream, the record (by its key) and the field."""
        super().__init__(f"stream {stream!r}, record {key}, field {field!r}: {problem}")
        self.stream = stream
        self.field = field
