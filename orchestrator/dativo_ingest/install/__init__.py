"""Isolated installs: one virtual environment per connector, built with uv."""

from dativo_ingest.install.connectors import (
    connector_env,
    ensure_installed,
    environments,
    fingerprint,
)
from dativo_ingest.install.venv import ConnectorEnv, InstallError

__all__ = [
    "ConnectorEnv",
    "InstallError",
    "connector_env",
    "ensure_installed",
    "environments",
    "fingerprint",
]
