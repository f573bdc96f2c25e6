"""What Dativo's first-party connectors share: error classes and their exit codes."""

from dativo_connector_kit.errors import (
    AuthenticationError,
    ConfigurationError,
    ConnectionError,
    ConnectorError,
    ExitCode,
    InputError,
    SchemaError,
    TransientError,
    exit_on_error,
)

__all__ = [
    "AuthenticationError",
    "ConfigurationError",
    "ConnectionError",
    "ConnectorError",
    "ExitCode",
    "InputError",
    "SchemaError",
    "TransientError",
    "exit_on_error",
]
