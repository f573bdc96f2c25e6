"""Read a job file: its project, YAML, ``${VAR}`` substitution, validation, executable lookup,
and each connector's config against the registry's settings.

Every problem is reported with the file, the key path and the reason, before anything starts.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml

from dativo_ingest.config.assets import load_assets
from dativo_ingest.config.interpolate import MissingVariablesError, interpolate
from dativo_ingest.config.models import JobConfig, Side
from dativo_ingest.config.project import Project, load_project
from dativo_ingest.config.secrets import Redactor, secret_values
from dativo_ingest.config.settings_check import registry_settings, settings_problems
from dativo_ingest.exceptions import JobFileError
from dativo_ingest.problems import key_path, reason
from dativo_ingest.protocol.names import DEFAULT_PROTOCOL, Capability, ProtocolName
from dativo_ingest.runtime.options import RuntimeOptions
from dativo_ingest.schema import SchemaError, validate
from dativo_ingest.yamlload import load_yaml

if TYPE_CHECKING:  # the registry is loaded only for jobs naming a connector or a pip_url
    from dativo_ingest.contracts.model import AssetContract
    from dativo_ingest.registry import ConnectorSpec, Registry

Role = Literal["source", "target", "mapper"]  # what a connector is to the job
# what an unregistered Singer connector is assumed to support
INLINE_CAPABILITIES: dict[str, list[Capability]] = {
    "source": [Capability.CATALOG, Capability.DISCOVER, Capability.STATE],
    "target": [],
    "mapper": [],
}


@dataclass(frozen=True)
class Connector:
    """A connector ready to install and start: a program given directly (``executable``), or a
    registry entry (``spec``: a named connector, or an inline ``pip_url``)."""

    name: str
    config: dict[str, Any]
    executable: Path | None = None
    spec: ConnectorSpec | None = None
    protocol: ProtocolName = DEFAULT_PROTOCOL
    runtime: RuntimeOptions | None = None
    job_file: Path | None = None  # where its config was written, for error messages
    key: str = ""  # where it sits in the job file: source, target, transforms[0]


@dataclass(frozen=True)
class Job:
    """A validated job: the model plus what was resolved from the file's location."""

    file: Path
    definition: JobConfig  # the job file's model; `connector.spec` is a registry entry
    source: Connector
    target: Connector
    transforms: tuple[Connector, ...]  # mapper connectors between source and target, in order
    catalog: Path | None
    redact: Redactor
    project: Project
    contracts: dict[str, AssetContract] = field(default_factory=dict)  # by stream

    @property
    def state_id(self) -> str:
        return self.definition.state_id

    @property
    def catalog_path(self) -> Path:
        """Where discovery writes this job's catalog: ``<root>/catalogs/<tenant>/<name>.json``."""
        return self.project.catalog_path(self.definition.tenant_id, self.definition.name)


def load_job(
    path: str | Path,
    environ: Mapping[str, str] | None = None,
    registry: Registry | None = None,
    environment: str | None = None,
) -> Job:
    """Load and validate the job file at ``path``; raise JobFileError listing every problem.

    ``${VAR}`` reads ``environ`` (default: the real environment), then the project's ``.env``
    and ``dativo.yaml`` (``environment`` selects one of its environments). Connectors named
    with ``connector:`` are looked up in ``registry`` (default: the built-in registry plus the
    project's overlays).
    """
    file = Path(path)
    project = load_project(file, environment)
    environ = os.environ if environ is None else environ
    public = set(project.file_variables(environ).values())
    environ = project.variables(environ)
    raw = _read_yaml(file)
    substituted: set[str] = set()
    problems: list[tuple[str, str]] = []
    for side, section in _sections(raw):
        if isinstance(section, dict) and isinstance(section.get("config"), dict):
            try:
                section["config"] = interpolate(
                    section["config"], environ, f"{side}.config", substituted
                )
            except MissingVariablesError as exc:
                problems += exc.missing
    try:
        spec = validate(JobConfig, raw)
    except SchemaError as exc:
        problems += [(key_path(err["loc"]), reason(err, JobConfig)) for err in exc.errors()]
        raise JobFileError(str(file), problems) from None
    if spec.stream_maps is not None:
        # imported here: only jobs with maps pay for the expression compiler
        from dativo_ingest.protocol.stream_maps import StreamMapConfigError, compile_stream_maps

        try:
            compile_stream_maps(spec.stream_maps)
        except StreamMapConfigError as exc:
            problems += exc.problems
    if problems:
        raise JobFileError(str(file), problems)

    base = file.resolve().parent
    named = [spec.source, spec.target, *spec.transforms]
    if registry is None and any(side.connector for side in named):
        from dativo_ingest.registry import RegistryError, load_registry

        try:
            registry = load_registry(file, project.root, project.registry_files)
        except RegistryError as exc:
            raise JobFileError(str(file), [("", str(exc))]) from None
    if project.runtime is not None:
        runtime = spec.runtime.over(project.runtime) if spec.runtime else project.runtime
        spec = replace(spec, runtime=runtime)
    source = _connector(spec.source, "source", "source", base, registry, problems)
    target = _connector(spec.target, "target", "target", base, registry, problems)
    transforms = [
        _connector(side, "mapper", f"transforms[{i}]", base, registry, problems)
        for i, side in enumerate(spec.transforms)
    ]
    for connector in (source, target, *transforms):
        if connector is not None and connector.spec is not None:
            # a public catalogue's "required" is derived, not tested: the connector's own
            # --about (checked after install) decides for index entries
            curated = connector.spec.catalogue is None
            settings = registry_settings(connector.spec.settings, with_required=curated)
            problems += settings_problems(connector.config, settings, f"{connector.key}.config")
    catalog = None
    if spec.source.catalog is not None:
        catalog = (base / spec.source.catalog).resolve()
        if not catalog.is_file():
            problems.append(("source.catalog", f"catalog file not found: {catalog}"))
    contracts = load_assets(spec.source.assets, project.root, problems)
    if problems:
        raise JobFileError(str(file), problems)
    secrets = substituted - public
    for section in named:
        secrets |= secret_values(section.config)
    assert source is not None and target is not None  # else a problem was listed
    mappers = tuple(replace(c, job_file=file) for c in transforms if c is not None)
    source = replace(source, job_file=file)
    target = replace(target, job_file=file)
    return Job(file, spec, source, target, mappers, catalog, Redactor(secrets), project, contracts)


def _sections(raw: dict[str, Any]) -> list[tuple[str, Any]]:
    """``(key path, section)`` of every connector in the raw job file."""
    sections = [("source", raw.get("source")), ("target", raw.get("target"))]
    transforms = raw.get("transforms")
    if isinstance(transforms, list):
        sections += [(f"transforms[{i}]", section) for i, section in enumerate(transforms)]
    return sections


def _read_yaml(file: Path) -> dict[str, Any]:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise JobFileError(str(file), [("", f"cannot read the file: {exc.strerror}")]) from None
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise JobFileError(str(file), [(where, f"invalid YAML: {reason}")]) from None
    if not isinstance(data, dict):
        raise JobFileError(str(file), [("", "the top level must be a mapping of keys")])
    return data


def _connector(
    side_spec: Side,
    side: Role,
    key: str,
    base: Path,
    registry: Registry | None,
    problems: list[tuple[str, str]],
) -> Connector | None:
    if side_spec.connector:
        from dativo_ingest.registry import RegistryError

        assert registry is not None
        try:
            found = registry.resolve(side_spec.connector, side_spec.variant)
        except RegistryError as exc:
            problems.append((f"{key}.connector", str(exc)))
            return None
        if found.type != side:
            problems.append((f"{key}.connector", f"{found.label} is a {found.type}, not a {side}"))
            return None
        return Connector(
            found.name,
            side_spec.config,
            spec=found,
            protocol=found.protocol,
            runtime=side_spec.runtime,
            key=key,
        )
    given = side_spec.executable
    assert given is not None
    protocol = side_spec.protocol or DEFAULT_PROTOCOL
    if side_spec.pip_url:
        from dativo_ingest.registry import ConnectorSpec

        inline = ConnectorSpec(
            name=_package_name(side_spec.pip_url),
            variant="inline",
            type=side,
            engine=protocol,
            protocol=protocol,
            pip_url=side_spec.pip_url,
            executable=given,
            capabilities=INLINE_CAPABILITIES[side],
        )
        return Connector(
            given,
            side_spec.config,
            spec=inline,
            protocol=protocol,
            runtime=side_spec.runtime,
            key=key,
        )
    if "/" in given:
        candidate = (base / given).resolve()
        found_path = (
            str(candidate) if os.access(candidate, os.X_OK) and candidate.is_file() else None
        )
        looked = f"{candidate} (relative to the job file)"
    else:
        found_path = shutil.which(given)
        looked = "PATH"
    if found_path is None:
        problems.append((f"{key}.executable", f"executable {given!r} not found in {looked}"))
        return None
    return Connector(
        Path(given).name,
        side_spec.config,
        executable=Path(found_path),
        protocol=protocol,
        runtime=side_spec.runtime,
        key=key,
    )


def _package_name(pip_url: str) -> str:
    """``target-jsonl==0.1.4`` -> ``target-jsonl``; a URL or path -> its last part."""
    name = re.split(r"[=<>!~\[;@ ]", pip_url.rstrip("/").rsplit("/", 1)[-1], maxsplit=1)[0]
    return re.sub(r"[^a-z0-9_.-]", "-", name.lower()).strip("-.") or "package"
