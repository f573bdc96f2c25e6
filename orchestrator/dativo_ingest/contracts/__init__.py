"""Data contracts (ODCS v3.1 subset): models, loading, and their enforcement in the relay."""

from dativo_ingest.contracts.model import (
    DEFAULT_ENFORCEMENT,
    AssetContract,
    ContractFileError,
    Enforcement,
    Mode,
    Property,
    QualityRule,
    SchemaObject,
    load_contract,
)

__all__ = [
    "DEFAULT_ENFORCEMENT",
    "AssetContract",
    "ContractFileError",
    "Enforcement",
    "Mode",
    "Property",
    "QualityRule",
    "SchemaObject",
    "load_contract",
]
