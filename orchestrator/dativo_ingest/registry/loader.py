"""The connector registry: the built-in file plus the project's overrides.

Where dativo looks, later files overriding earlier ones entry by entry (same name and variant):

1. the built-in registry, ``registry/connectors.yaml`` shipped with dativo;
2. the files ``dativo.yaml`` lists under ``registry:``;
3. every ``registry.yaml`` from the project root down to the job file's folder
   (the nearest to the job file wins).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from dativo_ingest.exceptions import ConfigurationError
from dativo_ingest.paths import find_project_root, shipped_root
from dativo_ingest.registry.models import ConnectorSpec

BUILTIN_REGISTRY = shipped_root() / "registry" / "connectors.yaml"
PROJECT_REGISTRY_NAME = "registry.yaml"


class RegistryError(ConfigurationError):
    """A registry file is invalid, or a job names a connector the registry does not have."""


class Registry:
    """Connector specs by name and variant."""

    def __init__(self, specs: Iterable[ConnectorSpec]) -> None:
        self._specs: dict[tuple[str, str], ConnectorSpec] = {}
        for spec in specs:
            self._specs[(spec.name, spec.variant)] = spec

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(sorted(self._specs.values(), key=lambda s: (s.name, s.variant)))

    def resolve(self, name: str, variant: str | None = None) -> ConnectorSpec:
        """The entry for ``name`` (or the alias ``<variant>-<name>``) and ``variant``.

        Without a variant: the only one, else the one marked ``default: true``.
        """
        if variant is None and not self._variants(name):
            for (known, known_variant), spec in self._specs.items():
                if name == f"{known_variant}-{known}":
                    return spec
        variants = self._variants(name)
        if not variants:
            raise RegistryError(
                f"no connector named {name!r} in the registry (see `dativo connectors list`)"
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

    def _variants(self, name: str) -> dict[str, ConnectorSpec]:
        return {v: s for (n, v), s in self._specs.items() if n == name}


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
    return Registry(specs)


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
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
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
