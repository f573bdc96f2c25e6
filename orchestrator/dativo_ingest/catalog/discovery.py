"""Running a tap's discovery, and the catalog cache under ``catalogs/<tenant>/<name>.json``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson

from dativo_ingest.catalog.selection import (
    Catalog,
    apply_metadata,
    apply_selection,
    stream_id,
    unmatched_patterns,
)
from dativo_ingest.config import Job, Redactor
from dativo_ingest.exceptions import ConfigurationError, RunFailedError
from dativo_ingest.logs import get_logger
from dativo_ingest.protocol.adapters import adapter_for
from dativo_ingest.runtime import Launch, run_to_completion
from dativo_ingest.runtime.program import Program
from dativo_ingest.schema import dump

log = get_logger(__name__)
CACHE_KEY_FIELD = "x-dativo-cache-key"
DISCOVERED_AT_FIELD = "x-dativo-discovered-at"
_STDERR_TAIL = 4000


def cache_key(job: Job, program: Program) -> str:
    """Changes when the tap, its config, or the job's selection and overrides change."""
    source = job.definition.source
    parts = {
        "program": program.identity,
        "config": job.source.config,
        "select": source.select,
        "metadata": {k: dump(v, by_alias=True) for k, v in source.metadata.items()},
    }
    import hashlib  # only jobs with a discovered catalog need it

    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()[:24]


def discover(program: Program, config_file: Path, redact: Redactor, launch: Launch) -> Catalog:
    """Run the tap's discovery and return its catalog: Singer ``--config F --discover``
    prints a catalog; Airbyte ``discover --config F`` prints a CATALOG message."""
    log.info("discovering the streams of %s ...", program.name)
    adapter = adapter_for(program.protocol)
    args = [str(arg) for arg in adapter.discover_args(config_file)]
    result = run_to_completion(program, args, launch)
    tail = redact(result.stderr.decode(errors="replace")[-_STDERR_TAIL:])
    if result.returncode != 0:
        raise RunFailedError(
            f"discovery with {program.name} failed (exit {result.returncode}):\n{tail}",
            program.name,
        )
    try:
        catalog = adapter.parse_catalog(result.stdout)
    except orjson.JSONDecodeError as exc:
        raise RunFailedError(
            f"{program.name} --discover printed no JSON catalog: {exc}", program.name
        ) from None
    if not isinstance(catalog, dict) or not isinstance(catalog.get("streams"), list):
        raise RunFailedError(f"{program.name} --discover printed no `streams` list", program.name)
    return catalog


def shape(job: Job, catalog: Catalog) -> Catalog:
    """Apply the job's metadata overrides, then its selection (everything when none)."""
    source = job.definition.source
    unmatched = unmatched_patterns(catalog, source.select or [])
    if unmatched:
        known = ", ".join(stream_id(s) for s in catalog.get("streams", [])) or "none"
        raise ConfigurationError(
            f"{job.file}: source.select: {', '.join(map(repr, unmatched))} names no stream "
            f"of the catalog (its streams: {known})"
        )
    apply_metadata(catalog, source.metadata)
    return apply_selection(catalog, source.select or ["*.*"])


def read_cached(path: Path) -> tuple[Catalog | None, str | None, float]:
    """The catalog at ``path``, the key it was written for and its age in seconds (None,
    None, infinity when there is none)."""
    try:
        catalog: Any = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None, None, float("inf")
    if not isinstance(catalog, dict):
        return None, None, float("inf")
    key = catalog.pop(CACHE_KEY_FIELD, None)
    discovered = catalog.pop(DISCOVERED_AT_FIELD, None)
    age = time.time() - discovered if isinstance(discovered, int | float) else float("inf")
    return catalog, key, age


def write_catalog(path: Path, catalog: Catalog, key: str | None) -> None:
    """Write ``catalog`` (with its cache key and discovery time) atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {**catalog, CACHE_KEY_FIELD: key, DISCOVERED_AT_FIELD: time.time()} if key else catalog
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(orjson.dumps(body, option=orjson.OPT_INDENT_2))
    temporary.replace(path)
