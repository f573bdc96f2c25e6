"""Catalogs: discovery, caching, Meltano-compatible selection and metadata overrides."""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path

import orjson

from dativo_ingest.catalog.discovery import (
    cache_key,
    discover,
    read_cached,
    shape,
    write_catalog,
)
from dativo_ingest.catalog.drift import schema_drift
from dativo_ingest.catalog.selection import (
    Catalog,
    apply_metadata,
    apply_selection,
    metadata_entry,
    stream_id,
)
from dativo_ingest.config import Job
from dativo_ingest.exceptions import ConfigurationError
from dativo_ingest.logs import get_logger
from dativo_ingest.protocol.adapters import adapter_for
from dativo_ingest.protocol.airbyte import configured_catalog
from dativo_ingest.protocol.names import Capability
from dativo_ingest.runtime import Launch
from dativo_ingest.runtime.program import Program
from dativo_ingest.schema import dump

log = get_logger(__name__)


def prepare_catalog(
    job: Job,
    program: Program,
    config_file: Path,
    *,
    launch: Launch,
    refresh: bool = False,
    output: Path | None = None,
) -> Catalog | None:
    """The catalog to hand the tap, or None when it needs none.

    An explicit ``source.catalog`` is used as given (shaped by ``select``/``metadata`` if
    the job has them). Otherwise a tap that can discover gets the cached catalog, discovered
    again when the cache key changed (the tap, its config, the selection), when the cache is
    older than the registry entry's ``discovery_max_age`` (0 for database taps: every run),
    or when ``refresh`` is set, and written to ``output`` (default: the job's
    ``catalogs/<tenant_id>/<name>.json``). Streams and columns added, removed or retyped since
    the cached catalog are logged as warnings.
    """
    source = job.definition.source
    shaping = source.select is not None or bool(source.metadata)
    if job.catalog is not None:
        catalog = orjson.loads(job.catalog.read_bytes())
        return shape(job, catalog) if shaping else catalog
    adapter = adapter_for(program.protocol)
    needs_discovery = adapter.always_discovers or (
        program.supports(Capability.DISCOVER) and (job.source.spec is not None or shaping)
    )
    if not needs_discovery:
        if shaping:
            raise ConfigurationError(
                f"{job.file}: source.select and source.metadata need a catalog, and "
                f"{program.name} cannot discover one: give source.catalog"
            )
        return None
    path = output or job.catalog_path
    key = cache_key(job, program)
    cached, cached_key, age = read_cached(path)
    spec = job.source.spec
    max_age = spec.discovery_max_age if spec and spec.discovery_max_age is not None else None
    fresh = max_age is None or age <= max_age
    if cached is not None and not refresh and cached_key == key and fresh:
        return cached
    catalog = discover(program, config_file, job.redact, launch)
    if not adapter.selects_in_configured_catalog:
        catalog = shape(job, catalog)
        if spec is not None and spec.engine == "native":
            _one_stream_selected(job, catalog)
    if cached is not None:
        for change in schema_drift(cached, catalog):
            log.warning("schema change since the last discovery: %s", change)
    write_catalog(path, catalog, key)
    return catalog


def _one_stream_selected(job: Job, catalog: Catalog) -> None:
    """A native connector syncs one object per run: exactly one stream must be selected."""
    chosen = [stream_id(s) for s in catalog.get("streams", []) if metadata_entry(s, [])["selected"]]
    if len(chosen) != 1:
        known = ", ".join(stream_id(s) for s in catalog.get("streams", [])) or "none"
        raise ConfigurationError(
            f"{job.file}: source.select: {job.source.name} syncs one object per run; "
            f"select one of: {known} (selected: {', '.join(chosen) or 'none'})"
        )


def airbyte_configured_catalog(job: Job, discovered: Catalog, full_refresh: bool) -> Catalog:
    """The ConfiguredAirbyteCatalog for a discovered AirbyteCatalog, shaped by the job:
    ``select`` picks streams, ``metadata`` sets sync modes, cursors and keys."""
    source = job.definition.source
    view = {
        "streams": [
            {"tap_stream_id": s["name"], "schema": s.get("json_schema") or {}}
            for s in discovered.get("streams", [])
        ]
    }
    apply_selection(view, source.select or ["*.*"])
    selected = {
        s["tap_stream_id"] for s in view["streams"] if metadata_entry(s, []).get("selected")
    }
    overrides = {}
    for stream in discovered.get("streams", []):
        for pattern, override in source.metadata.items():
            if fnmatchcase(stream["name"], pattern):
                overrides[stream["name"]] = dump(override, by_alias=True, exclude_none=True)
    return configured_catalog(
        discovered,
        selected,
        overrides,
        full_refresh=full_refresh,
        destination_sync_mode=job.definition.target.destination_sync_mode,
    )


__all__ = [
    "Catalog",
    "airbyte_configured_catalog",
    "apply_metadata",
    "apply_selection",
    "prepare_catalog",
]
