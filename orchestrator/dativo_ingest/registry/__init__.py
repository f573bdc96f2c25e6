"""The connector registry: built-in entries plus project overrides."""

from dativo_ingest.protocol.names import Capability
from dativo_ingest.registry.index import ConnectorIndex, ConnectorIndexError
from dativo_ingest.registry.loader import Registry, RegistryError, load_registry
from dativo_ingest.registry.models import ConnectorSpec, Setting

__all__ = [
    "Capability",
    "ConnectorIndex",
    "ConnectorIndexError",
    "ConnectorSpec",
    "Registry",
    "RegistryError",
    "Setting",
    "load_registry",
]
