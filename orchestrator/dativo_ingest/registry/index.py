"""The connector index: the generated registry layer below the curated entries.

``registry/connector-index.json`` holds one entry per variant of every connector in the public
catalogues dativo draws on (the Meltano Hub, the Airbyte packages on PyPI), written by
``scripts/regenerate-connector-index.py``. It is read on first use only: a job naming a
curated or first-party connector never opens it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from dativo_ingest.exceptions import ConfigurationError
from dativo_ingest.registry.models import ConnectorSpec


class ConnectorIndexError(ConfigurationError):
    """The index file is missing or invalid."""


class ConnectorIndex:
    """Index entries by name and variant, read from ``file`` when first asked for."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self._raw: dict[str, dict[str, dict[str, Any]]] | None = None
        self._specs: dict[tuple[str, str], ConnectorSpec] = {}

    def variants(self, name: str) -> dict[str, ConnectorSpec]:
        """Every variant of ``name`` (empty when the index has no such name)."""
        return {v: self._spec(name, v) for v in self._entries().get(name, {})}

    def alias(self, name: str) -> ConnectorSpec | None:
        """The entry ``<variant>-<name>`` stands for, if any."""
        entries = self._entries()
        for cut in range(1, len(name)):
            if name[cut] == "-" and name[:cut] in entries.get(name[cut + 1 :], {}):
                return self._spec(name[cut + 1 :], name[:cut])
        return None

    def __iter__(self) -> Iterator[ConnectorSpec]:
        for name, variants in self._entries().items():
            for variant in variants:
                yield self._spec(name, variant)

    def _spec(self, name: str, variant: str) -> ConnectorSpec:
        key = (name, variant)
        if key not in self._specs:
            try:
                self._specs[key] = ConnectorSpec.model_validate(self._entries()[name][variant])
            except ValidationError as exc:
                raise ConnectorIndexError(
                    f"{self.file}: entry {name!r} (variant {variant!r}) is invalid: {exc}; "
                    "regenerate it with scripts/regenerate-connector-index.py"
                ) from None
        return self._specs[key]

    def _entries(self) -> dict[str, dict[str, dict[str, Any]]]:
        if self._raw is None:
            try:
                data = orjson.loads(self.file.read_bytes())
            except (OSError, orjson.JSONDecodeError) as exc:
                raise ConnectorIndexError(
                    f"cannot read the connector index {self.file}: {exc}"
                ) from None
            raw: dict[str, dict[str, dict[str, Any]]] = {}
            for entry in data["connectors"]:
                raw.setdefault(entry["name"], {})[entry.get("variant", "default")] = entry
            self._raw = raw
        return self._raw
