"""The connector registry: the built-in file plus the project's overrides, above the index.

Where dativo looks, later files overriding earlier ones entry by entry (same name and variant):

1. the built-in registry, ``registry/connectors.yaml`` shipped with dativo;
2. the files ``dativo.yaml`` lists under ``registry:``;
3. every ``registry.yaml`` from the project root down to the job file's folder
   (the nearest to the job file wins).

Below these curated entries lies the generated connector index (``registry/connector-index.json``,
see :mod:`dativo_ingest.registry.index`), consulted only for names or variants they lack.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from dativo_ingest.exceptions import ConfigurationError
from dativo_ingest.paths import find_project_root, shipped_root
from dativo_ingest.registry.index import ConnectorIndex
from dativo_ingest.registry.models import ConnectorSpec
from dativo_ingest.yamlload import load_yaml

BUILTIN_REGISTRY = shipped_root() / "registry" / "connectors.yaml"
CONNECTOR_INDEX = BUILTIN_REGISTRY.with_name("connector-index.json")
PROJECT_REGISTRY_NAME = "registry.yaml"


class RegistryError(ConfigurationError):
    """A registry file is invalid, or a job names a connector the registry does not have."""


class Registry:
    """Connector specs by name and variant: the curated entries, then the index below them."""

    def __init__(self, specs: Iterable[ConnectorSpec], index: ConnectorIndex | None = None) -> None:
        self._specs: dict[tuple[str, str], ConnectorSpec] = {}
        self._index = index
        for spec in specs:
            self._specs[(spec.name, spec.variant)] = spec

    def __iter__(self) -> Iterator[ConnectorSpec]:
        """The curated entries."""
        return iter(sorted(self._specs.values(), key=lambda s: (s.name, s.variant)))

    def everything(self) -> list[ConnectorSpec]:
        """Curated entries and every index entry they do not replace (same name and variant)."""
        indexed = [s for s in self._index or () if (s.name, s.variant) not in self._specs]
        return sorted([*self._specs.values(), *indexed], key=lambda s: (s.name, s.variant))

    def is_curated(self, spec: ConnectorSpec) -> bool:
        return self._specs.get((spec.name, spec.variant)) is spec

    def resolve(self, name: str, variant: str | None = None) -> ConnectorSpec:
        """The entry for ``name`` (or the alias ``<variant>-<name>``) and ``variant``.

        Without a variant: the only one, else the one marked ``default: true``; a name with
        curated entries resolves among those, the index serves the names and variants they lack.
        """
        if variant is None and not self._curated(name):
            for (known, known_variant), spec in self._specs.items():
                if name == f"{known_variant}-{known}":
                    return spec
        variants = self._variants(name, variant)
        if variant is None and not variants and self._index is not None:
            aliased = self._index.alias(name)
            if aliased is not None:
                return aliased
        if not variants:
            raise RegistryError(
                f"no connector named {name!r} in the registry "
                "(see `dativo connectors search WORD` and `dativo connectors list --all`)"
            )
        if variant is not None:
            if variant not in variants:
                raise RegistryError(
                    f"connector {name!r} has no variant {variant!r}; "
                    f"variants: {', '.join(sorted(variants))}"
                )
            return variants[variant]
        if len(variants) == 1:
            return next(iter(variants.values()))
        defaults = [s for s in variants.values() if s.default]
        if len(defaults) != 1:
            raise RegistryError(
                f"connector {name!r} has several variants "
                f"({', '.join(sorted(variants))}): name one with `variant:`"
            )
        return defaults[0]

    def _curated(self, name: str) -> dict[str, ConnectorSpec]:
        return {v: s for (n, v), s in self._specs.items() if n == name}

    def _variants(self, name: str, wanted: str | None) -> dict[str, ConnectorSpec]:
        curated = self._curated(name)
        if (curated and (wanted is None or wanted in curated)) or self._index is None:
            return curated
        return {**self._index.variants(name), **curated}


def load_registry(
    job_file: Path | None = None, root: Path | None = None, listed: Iterable[Path] = ()
) -> Registry:
    """The built-in registry overlaid with the ``listed`` files and the project's
    ``registry.yaml`` files (``root``: the project root, default: found from the job file's
    folder or the current folder)."""
    if root is None:
        start = job_file.resolve().parent if job_file else Path.cwd()
        root = find_project_root(start) or start
    files = [BUILTIN_REGISTRY, *listed, *project_registry_files(job_file, root)]
    specs: list[ConnectorSpec] = []
    for file in files:
        specs += read_registry_file(file)
    return Registry(specs, ConnectorIndex(CONNECTOR_INDEX))


def project_registry_files(job_file: Path | None, root: Path) -> list[Path]:
    """``registry.yaml`` files from ``root`` down to the job file's folder, outermost first."""
    root = root.resolve()
    if job_file is None:
        folders = [root]
    else:
        folder = job_file.resolve().parent
        folders = [folder, *folder.parents]
        folders = folders[: folders.index(root) + 1] if root in folders else [folder]
        folders.reverse()
    return [f / PROJECT_REGISTRY_NAME for f in folders if (f / PROJECT_REGISTRY_NAME).is_file()]


def read_registry_file(file: Path) -> list[ConnectorSpec]:
    """Validate every entry of one registry file; paths become absolute."""
    try:
        data = load_yaml(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RegistryError(f"cannot read registry file {file}: {exc}") from None
    entries = data.get("connectors") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise RegistryError(f"{file}: expected a top-level `connectors:` list")
    specs, problems = [], []
    for index, entry in enumerate(entries):
        try:
            spec = ConnectorSpec.model_validate(entry)
        except ValidationError as exc:
            problems += [
                f"{file}: {_entry_label(entry, index)}: {_where(err)}{err['msg']}"
                for err in exc.errors()
            ]
            continue
        if spec.path is not None:
            spec = spec.model_copy(update={"path": str((file.parent / spec.path).resolve())})
        specs.append(spec)
    if problems:
        raise RegistryError("invalid registry entries:\n  " + "\n  ".join(problems))
    return specs


def _entry_label(entry: Any, index: int) -> str:
    if isinstance(entry, dict) and entry.get("name"):
        return f"entry {entry['name']!r} (variant {entry.get('variant', 'default')!r})"
    return f"entry #{index + 1}"


def _where(error: Any) -> str:
    path = ".".join(str(p) for p in error["loc"])
    return f"{path}: " if path else ""
