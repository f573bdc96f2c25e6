"""Running a tap's discovery, and the catalog cache under ``catalogs/<tenant>/<name>.json``."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson

from dativo_ingest.catalog.selection import Catalog, apply_metadata, apply_selection
from dativo_ingest.config import Job, Redactor
from dativo_ingest.exceptions import RunFailedError
from dativo_ingest.logs import get_logger
from dativo_ingest.runtime import Launch, run_to_completion
from dativo_ingest.runtime.program import Program

log = get_logger(__name__)
CACHE_KEY_FIELD = "x-dativo-cache-key"
_STDERR_TAIL = 4000


def default_catalog_path(job: Job, project: Path | None = None) -> Path:
    return (project or Path.cwd()) / "catalogs" / job.spec.tenant_id / f"{job.spec.name}.json"


def cache_key(job: Job, program: Program) -> str:
    """Changes when the tap, its config, or the job's selection and overrides change."""
    source = job.spec.source
    parts = {
        "program": program.identity,
        "config": job.source.config,
        "select": source.select,
        "metadata": {k: v.model_dump(by_alias=True) for k, v in source.metadata.items()},
    }
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()[:24]


def discover(program: Program, config_file: Path, redact: Redactor, launch: Launch) -> Catalog:
    """Run the tap's discovery and return its catalog: Singer ``--config F --discover``
    prints a catalog; Airbyte ``discover --config F`` prints a CATALOG message."""
    log.info("discovering the streams of %s ...", program.name)
    airbyte = program.protocol == "airbyte"
    args = (
        ["discover", "--config", str(config_file)]
        if airbyte
        else ["--config", str(config_file), "--discover"]
    )
    result = run_to_completion(program, args, launch)
    tail = redact(result.stderr.decode(errors="replace")[-_STDERR_TAIL:])
    if result.returncode != 0:
        raise RunFailedError(
            f"discovery with {program.name} failed (exit {result.returncode}):\n{tail}",
            program.name,
        )
    try:
        catalog = _airbyte_catalog(result.stdout) if airbyte else orjson.loads(result.stdout)
    except orjson.JSONDecodeError as exc:
        raise RunFailedError(
            f"{program.name} --discover printed no JSON catalog: {exc}", program.name
        ) from None
    if not isinstance(catalog, dict) or not isinstance(catalog.get("streams"), list):
        raise RunFailedError(f"{program.name} --discover printed no `streams` list", program.name)
    return catalog


def _airbyte_catalog(output: bytes) -> Any:
    for line in output.splitlines():
        if line.startswith(b"{") and b'"CATALOG"' in line:
            message = orjson.loads(line)
            if message.get("type") == "CATALOG":
                return message.get("catalog")
    raise orjson.JSONDecodeError("no CATALOG message", "", 0)


def shape(job: Job, catalog: Catalog) -> Catalog:
    """Apply the job's metadata overrides, then its selection (everything when none)."""
    source = job.spec.source
    apply_metadata(catalog, source.metadata)
    return apply_selection(catalog, source.select or ["*.*"])


def read_cached(path: Path, key: str) -> Catalog | None:
    """The catalog at ``path`` if it was written for ``key``."""
    try:
        catalog: Any = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if isinstance(catalog, dict) and catalog.get(CACHE_KEY_FIELD) == key:
        catalog.pop(CACHE_KEY_FIELD)
        return catalog
    return None


def write_catalog(path: Path, catalog: Catalog, key: str | None) -> None:
    """Write ``catalog`` (with its cache key) atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {**catalog, CACHE_KEY_FIELD: key} if key else catalog
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(orjson.dumps(body, option=orjson.OPT_INDENT_2))
    temporary.replace(path)
