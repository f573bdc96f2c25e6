"""Dativo Ingest: run Singer and Airbyte connectors as isolated programs and keep their state."""

__version__ = "0.1.0"
