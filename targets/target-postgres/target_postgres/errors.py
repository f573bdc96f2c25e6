"""Errors the target raises on purpose, on top of the connector kit's tree (exit codes)."""

from __future__ import annotations

from dativo_connector_kit import ConnectorError


class LoadError(ConnectorError):
    """Postgres refused a batch, or a table cannot take the stream's schema (exit 1).

    The batch's transaction was rolled back; every earlier batch stays committed.
    """
