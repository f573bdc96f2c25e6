"""Starting connectors: local processes today, containers behind the same interface next."""

from dativo_ingest.runtime.process import ConnectorProcess

__all__ = ["ConnectorProcess"]
