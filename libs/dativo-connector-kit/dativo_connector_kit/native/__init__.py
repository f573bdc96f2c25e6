"""The connector guide's API for native connectors (Python classes run as Singer taps by
``dativo-native``): ``SourceConfig``, ``IncrementalStateManager`` (over a ``BookmarkStore``),
``get_logger``, ``MemoryBookmarks`` for tests and the error classes whose exit codes tell
the orchestrator what to do."""

from dativo_connector_kit.errors import (
    AuthenticationError,
    ConfigurationError,
    ConnectionError,
    ConnectorError,
    TransientError,
)
from dativo_connector_kit.native.config import SourceConfig
from dativo_connector_kit.native.logs import get_logger
from dativo_connector_kit.native.state import (
    BookmarkStore,
    IncrementalStateManager,
    MemoryBookmarks,
)

__all__ = [
    "AuthenticationError",
    "BookmarkStore",
    "ConfigurationError",
    "ConnectionError",
    "ConnectorError",
    "IncrementalStateManager",
    "MemoryBookmarks",
    "SourceConfig",
    "TransientError",
    "get_logger",
]
