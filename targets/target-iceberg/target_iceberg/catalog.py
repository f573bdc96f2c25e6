"""Opening the Iceberg catalog the settings describe, and classifying its failures.

With no ``catalog`` setting and a local warehouse, the catalog is pyiceberg's SQL catalog on a
SQLite file ``catalog.db`` in the warehouse folder. The warehouse is handed to the catalog as
its ``warehouse`` property (new tables get ``<warehouse>/<namespace>.db/<table>``); the S3
settings become pyiceberg's FileIO properties (``s3.endpoint``, ...).
"""

from __future__ import annotations

import typing as t
from pathlib import Path

from dativo_connector_kit import (
    AuthenticationError,
    ConfigurationError,
    ConnectionError,
    ConnectorError,
)

if t.TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from target_iceberg.settings import Settings

DEFAULT_CATALOG_FILE = "catalog.db"
_AUTH_ERRORS = ("ACCESS_DENIED", "INVALID_ACCESS_KEY_ID", "SIGNATURE_DOES_NOT_MATCH", "403")
_NETWORK_ERRORS = ("NETWORK_CONNECTION", "Couldn't connect", "curlCode", "Timeout", "refused")


def catalog_properties(settings: Settings) -> dict[str, str]:
    """The pyiceberg properties of the catalog (the default SQLite one when none is set)."""
    properties = dict(settings.catalog)
    if settings.is_local:
        folder = local_folder(settings)
        properties.setdefault("warehouse", folder.absolute().as_uri())
        if "type" not in properties and "uri" not in properties:
            properties["type"] = "sql"
            properties["uri"] = f"sqlite:///{folder.absolute() / DEFAULT_CATALOG_FILE}"
    else:
        properties.setdefault("warehouse", settings.warehouse.rstrip("/"))
    return properties


def local_folder(settings: Settings) -> Path:
    """The folder of a local warehouse."""
    return Path(settings.warehouse.removeprefix("file://"))


def uses_default_catalog(settings: Settings) -> bool:
    """Whether the catalog is the default SQLite file in a local warehouse."""
    return settings.is_local and not settings.catalog


def open_catalog(settings: Settings, *, create_namespace: bool = True) -> Catalog:
    """Load the catalog (creating a local warehouse folder first) and, unless told otherwise,
    make sure the namespace exists."""
    from pyiceberg.catalog import load_catalog

    if settings.is_local:
        local_folder(settings).mkdir(parents=True, exist_ok=True)
    try:
        catalog = load_catalog(settings.catalog_name, **catalog_properties(settings))
        if create_namespace:
            catalog.create_namespace_if_not_exists(settings.namespace)
    except ValueError as exc:  # pyiceberg's word for a bad property
        raise ConfigurationError(f"catalog: {exc}") from exc
    return catalog


def as_connector_error(error: Exception) -> ConnectorError:
    """Classify a catalog or storage failure by what an orchestrator should do about it."""
    text = str(error)
    if any(marker in text for marker in _AUTH_ERRORS):
        return AuthenticationError(f"access refused: {text}")
    if any(marker in text for marker in _NETWORK_ERRORS):
        return ConnectionError(f"cannot reach the catalog or warehouse: {text}")
    if "NO_SUCH_BUCKET" in text or "NoSuchBucket" in text:
        return ConfigurationError(f"S3 bucket not found: {text}")
    return ConnectorError(f"{type(error).__name__}: {text}")
