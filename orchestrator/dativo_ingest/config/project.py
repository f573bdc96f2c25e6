"""The project: the folder holding ``dativo.yaml`` (or, without one, the job file's folder).

Everything relative is relative to the project root: ``DATIVO_HOME`` (default
``<root>/.dativo``), catalogs (``<root>/catalogs/<tenant>/<job>.json``), registry overlays and
the paths inside connector configs (connectors run in the root).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from dativo_ingest.config.dotenv import read_dotenv
from dativo_ingest.exceptions import JobFileError
from dativo_ingest.paths import PROJECT_FILE, find_project_root
from dativo_ingest.problems import key_path, reason
from dativo_ingest.runtime.options import RuntimeOptions
from dativo_ingest.schema import SchemaError, validate
from dativo_ingest.yamlload import load_yaml

DEFAULT_HOME = ".dativo"
ENVIRONMENT_VARIABLE = "DATIVO_ENVIRONMENT"


@dataclass(frozen=True)
class EnvironmentSettings:
    """One entry of ``environments:``: what changes when it is selected."""

    env: dict[str, str] = field(default_factory=dict)
    runtime: RuntimeOptions | None = None
    home: str | None = None


@dataclass(frozen=True)
class ProjectSettings:
    """``dativo.yaml``."""

    home: str = DEFAULT_HOME
    runtime: RuntimeOptions | None = None
    registry: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    default_environment: str | None = None
    environments: dict[str, EnvironmentSettings] = field(default_factory=dict)


@dataclass(frozen=True)
class Project:
    """A project root, its settings, and the selected environment (if any)."""

    root: Path
    settings: ProjectSettings = field(default_factory=ProjectSettings)
    environment: str | None = None
    home: Path = field(init=False)

    def __post_init__(self) -> None:
        # resolved once, against the folder dativo was started in (it may move to the root)
        object.__setattr__(self, "home", self._home())

    @property
    def file(self) -> Path:
        return self.root / PROJECT_FILE

    @property
    def _selected(self) -> EnvironmentSettings:
        if self.environment is None:
            return EnvironmentSettings()
        return self.settings.environments[self.environment]

    def _home(self) -> Path:
        """``$DATIVO_HOME`` (made absolute), else the project's ``home`` under the root."""
        given = os.environ.get("DATIVO_HOME")
        if given:
            return Path(given).resolve()
        return (self.root / (self._selected.home or self.settings.home)).resolve()

    @property
    def runtime(self) -> RuntimeOptions | None:
        """The project's default runtime, the environment's fields first."""
        selected = self._selected.runtime
        return selected.over(self.settings.runtime) if selected else self.settings.runtime

    @property
    def registry_files(self) -> list[Path]:
        return [(self.root / name).resolve() for name in self.settings.registry]

    def catalog_path(self, tenant_id: str, name: str) -> Path:
        return self.root / "catalogs" / tenant_id / f"{name}.json"

    def file_variables(self, environ: Mapping[str, str]) -> dict[str, str]:
        """The variables ``dativo.yaml`` sets and nothing overrides: written in the project
        file, so not secrets."""
        dotenv = read_dotenv(self.root / ".env")
        written = {**self.settings.env, **self._selected.env}
        return {k: v for k, v in written.items() if k not in environ and k not in dotenv}

    def variables(self, environ: Mapping[str, str]) -> dict[str, str]:
        """What ``${VAR}`` reads, the first found winning: ``environ`` (the real environment),
        the root's ``.env``, the environment's ``env:``, the project's ``env:``."""
        return {
            **self.settings.env,
            **self._selected.env,
            **read_dotenv(self.root / ".env"),
            **environ,
        }


def load_project(start: Path, environment: str | None = None) -> Project:
    """The project of a job file or folder ``start``: the nearest ``dativo.yaml`` above it;
    without one, the job file's folder (or ``start`` itself when it is a folder)."""
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    root = find_project_root(folder)
    environment = environment or os.environ.get(ENVIRONMENT_VARIABLE) or None
    if root is None:
        if environment is not None:
            raise JobFileError(
                str(start), [("", f"--environment {environment}: no {PROJECT_FILE} found")]
            )
        return Project(folder)
    settings = _read_settings(root / PROJECT_FILE)
    environment = environment or settings.default_environment
    if environment is not None and environment not in settings.environments:
        known = ", ".join(sorted(settings.environments)) or "none"
        raise JobFileError(
            str(root / PROJECT_FILE),
            [("environments", f"no environment {environment!r} (defined: {known})")],
        )
    return Project(root, settings, environment)


def _read_settings(file: Path) -> ProjectSettings:
    try:
        data = load_yaml(file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise JobFileError(str(file), [("", f"cannot read the project file: {exc}")]) from None
    if not isinstance(data, dict):
        raise JobFileError(str(file), [("", "the top level must be a mapping of keys")])
    try:
        return validate(ProjectSettings, data)
    except SchemaError as exc:
        problems = [(key_path(err["loc"]), reason(err, ProjectSettings)) for err in exc.errors()]
        raise JobFileError(str(file), problems) from None
