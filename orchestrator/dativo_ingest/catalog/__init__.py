"""Catalogs: discovery, caching, Meltano-compatible selection and metadata overrides."""

from __future__ import annotations

from pathlib import Path

import orjson

from dativo_ingest.catalog.discovery import (
    cache_key,
    default_catalog_path,
    discover,
    read_cached,
    shape,
    write_catalog,
)
from dativo_ingest.catalog.selection import Catalog, apply_metadata, apply_selection
from dativo_ingest.config import Job
from dativo_ingest.exceptions import ConfigurationError
from dativo_ingest.registry import Capability
from dativo_ingest.runtime.program import Program


def prepare_catalog(
    job: Job,
    program: Program,
    config_file: Path,
    *,
    refresh: bool = False,
    output: Path | None = None,
) -> Catalog | None:
    """The catalog to hand the tap, or None when it needs none.

    An explicit ``source.catalog`` is used as given (shaped by ``select``/``metadata`` if
    the job has them). Otherwise a tap that can discover gets the cached catalog, discovered
    again when the cache key changed or ``refresh`` is set, and written to ``output``
    (default ``catalogs/<tenant_id>/<name>.json``).
    """
    source = job.spec.source
    shaping = source.select is not None or bool(source.metadata)
    if job.catalog is not None:
        catalog = orjson.loads(job.catalog.read_bytes())
        return shape(job, catalog) if shaping else catalog
    if not program.supports(Capability.DISCOVER) or (job.source.spec is None and not shaping):
        if shaping:
            raise ConfigurationError(
                f"{job.file}: source.select and source.metadata need a catalog, and "
                f"{program.name} cannot discover one: give source.catalog"
            )
        return None
    path = output or default_catalog_path(job)
    key = cache_key(job, program)
    if not refresh and (cached := read_cached(path, key)) is not None:
        return cached
    catalog = shape(job, discover(program, config_file, job.redact))
    write_catalog(path, catalog, key)
    return catalog


__all__ = ["Catalog", "apply_metadata", "apply_selection", "prepare_catalog"]
