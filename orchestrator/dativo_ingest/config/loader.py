"""Read a job file: YAML, ``${VAR}`` substitution, validation, executable lookup.

Every problem is reported with the file, the key path and the reason, before anything starts.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from dativo_ingest.config.interpolate import MissingVariablesError, interpolate
from dativo_ingest.config.models import ConnectorConfig, JobConfig
from dativo_ingest.config.secrets import Redactor, secret_values
from dativo_ingest.exceptions import JobFileError
from dativo_ingest.registry import ConnectorSpec, Registry, RegistryError, load_registry
from dativo_ingest.registry.models import Capability
from dativo_ingest.runtime.options import RuntimeOptions

INLINE_CAPABILITIES = {  # what an unregistered Singer connector is assumed to support
    "source": [Capability.CATALOG, Capability.DISCOVER, Capability.STATE],
    "target": [],
}


@dataclass(frozen=True)
class Connector:
    """A connector ready to install and start: a program given directly (``executable``), or a
    registry entry (``spec``: a named connector, or an inline ``pip_url``)."""

    name: str
    config: dict[str, Any]
    executable: Path | None = None
    spec: ConnectorSpec | None = None
    protocol: Literal["singer", "airbyte"] = "singer"
    runtime: RuntimeOptions | None = None


@dataclass(frozen=True)
class Job:
    """A validated job: the model plus what was resolved from the file's location."""

    file: Path
    spec: JobConfig
    source: Connector
    target: Connector
    catalog: Path | None
    redact: Redactor

    @property
    def state_id(self) -> str:
        return self.spec.state_id


def load_job(
    path: str | Path, environ: Mapping[str, str] | None = None, registry: Registry | None = None
) -> Job:
    """Load and validate the job file at ``path``; raise JobFileError listing every problem.

    Connectors named with ``connector:`` are looked up in ``registry`` (default: the built-in
    registry plus the project's ``registry.yaml`` files).
    """
    file = Path(path)
    environ = os.environ if environ is None else environ
    raw = _read_yaml(file)
    substituted: set[str] = set()
    problems: list[tuple[str, str]] = []
    for side in ("source", "target"):
        section = raw.get(side)
        if isinstance(section, dict) and isinstance(section.get("config"), dict):
            try:
                section["config"] = interpolate(
                    section["config"], environ, f"{side}.config", substituted
                )
            except MissingVariablesError as exc:
                problems += [
                    (where, f"environment variable {name} is not set")
                    for where, name in exc.missing
                ]
    try:
        spec = JobConfig.model_validate(raw)
    except ValidationError as exc:
        problems += [(_key_path(err["loc"]), _reason(err)) for err in exc.errors()]
        raise JobFileError(str(file), problems) from None
    if problems:
        raise JobFileError(str(file), problems)

    base = file.resolve().parent
    if registry is None and (spec.source.connector or spec.target.connector):
        try:
            registry = load_registry(file)
        except RegistryError as exc:
            raise JobFileError(str(file), [("", str(exc))]) from None
    source = _connector(spec.source, "source", base, registry, problems)
    target = _connector(spec.target, "target", base, registry, problems)
    catalog = None
    if spec.source.catalog is not None:
        catalog = (base / spec.source.catalog).resolve()
        if not catalog.is_file():
            problems.append(("source.catalog", f"catalog file not found: {catalog}"))
    if problems:
        raise JobFileError(str(file), problems)
    secrets = substituted | secret_values(spec.source.config) | secret_values(spec.target.config)
    return Job(file, spec, source, target, catalog, Redactor(secrets))  # type: ignore[arg-type]


def _read_yaml(file: Path) -> dict[str, Any]:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise JobFileError(str(file), [("", f"cannot read the file: {exc.strerror}")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise JobFileError(str(file), [(where, f"invalid YAML: {reason}")]) from None
    if not isinstance(data, dict):
        raise JobFileError(str(file), [("", "the top level must be a mapping of keys")])
    return data


def _connector(
    side_spec: ConnectorConfig,
    side: str,
    base: Path,
    registry: Registry | None,
    problems: list[tuple[str, str]],
) -> Connector | None:
    if side_spec.connector:
        assert registry is not None
        try:
            found = registry.resolve(side_spec.connector, side_spec.variant)
        except RegistryError as exc:
            problems.append((f"{side}.connector", str(exc)))
            return None
        if found.type != side:
            problems.append((f"{side}.connector", f"{found.label} is a {found.type}, not a {side}"))
            return None
        return Connector(
            found.name,
            side_spec.config,
            spec=found,
            protocol=found.protocol,
            runtime=side_spec.runtime,
        )
    given = side_spec.executable
    assert given is not None
    protocol = side_spec.protocol or "singer"
    if side_spec.pip_url:
        inline = ConnectorSpec(
            name=_package_name(side_spec.pip_url),
            variant="inline",
            type="source" if side == "source" else "target",
            engine=protocol,
            protocol=protocol,
            pip_url=side_spec.pip_url,
            executable=given,
            capabilities=INLINE_CAPABILITIES[side],
        )
        return Connector(
            given, side_spec.config, spec=inline, protocol=protocol, runtime=side_spec.runtime
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
        problems.append((f"{side}.executable", f"executable {given!r} not found in {looked}"))
        return None
    return Connector(
        Path(given).name,
        side_spec.config,
        executable=Path(found_path),
        protocol=protocol,
        runtime=side_spec.runtime,
    )


def _package_name(pip_url: str) -> str:
    """``target-jsonl==0.1.4`` -> ``target-jsonl``; a URL or path -> its last part."""
    name = re.split(r"[=<>!~\[;@ ]", pip_url.rstrip("/").rsplit("/", 1)[-1], maxsplit=1)[0]
    return re.sub(r"[^a-z0-9_.-]", "-", name.lower()).strip("-.") or "package"


def _key_path(loc: tuple[int | str, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def _reason(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    return str(error["msg"])  # pydantic's message; the offending value is never included
