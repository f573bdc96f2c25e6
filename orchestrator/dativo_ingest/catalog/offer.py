"""What a source offers now: a fresh discovery, shaped by the job's selection, as one neutral
entry per selected stream (Singer and Airbyte catalogs alike). Nothing is cached or written:
``dativo contract generate`` and ``dativo contract diff`` read it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from dativo_ingest.catalog import airbyte_configured_catalog
from dativo_ingest.catalog.discovery import discover, shape
from dativo_ingest.catalog.selection import Catalog, metadata_entry, stream_id
from dativo_ingest.config import Job
from dativo_ingest.exceptions import ConfigurationError
from dativo_ingest.protocol.adapters import adapter_for
from dativo_ingest.protocol.names import Capability
from dativo_ingest.runtime import Launch
from dativo_ingest.runtime.program import Program


@dataclass(frozen=True)
class OfferedStream:
    """One selected stream: its name in RECORD messages, the JSON schema of its selected
    properties, its key properties and, when the source tells it, the table it reads."""

    name: str
    schema: dict[str, Any]
    key_properties: tuple[str, ...]
    physical_name: str | None = None


def current_offer(
    job: Job, program: Program, config_file: Path, launch: Launch
) -> list[OfferedStream]:
    """Discover the source's streams now and keep the ones the job selects.

    A source that cannot discover is read from the job's ``source.catalog``; without one,
    this is a ConfigurationError naming the connector.
    """
    adapter = adapter_for(program.protocol)
    if adapter.always_discovers or program.supports(Capability.DISCOVER):
        catalog = discover(program, config_file, job.redact, launch)
    elif job.catalog is not None:
        catalog = orjson.loads(job.catalog.read_bytes())
    else:
        raise ConfigurationError(
            f"{job.file}: {program.name} cannot discover its streams (no `discover` "
            "capability) and the job gives no source.catalog"
        )
    if adapter.selects_in_configured_catalog:
        return _airbyte_streams(job, catalog)
    return _singer_streams(shape(job, catalog))


def _singer_streams(catalog: Catalog) -> list[OfferedStream]:
    offered = []
    for stream in catalog.get("streams", []):
        root = metadata_entry(stream, [])
        if not root.get("selected"):
            continue
        schema = dict(stream.get("schema") or {})
        properties = schema.get("properties") or {}
        schema["properties"] = {
            name: prop
            for name, prop in properties.items()
            if metadata_entry(stream, ["properties", name]).get("selected") is not False
        }
        keys = root.get("table-key-properties") or stream.get("key_properties") or []
        table = stream.get("table_name")
        namespace = root.get("schema-name")
        physical = f"{namespace}.{table}" if table and namespace else table
        offered.append(OfferedStream(stream_id(stream), schema, tuple(keys), physical))
    return offered


def _airbyte_streams(job: Job, discovered: Catalog) -> list[OfferedStream]:
    configured = airbyte_configured_catalog(job, discovered, full_refresh=False)
    offered = []
    for entry in configured["streams"]:
        stream = entry["stream"]
        keys = tuple(path[0] for path in entry.get("primary_key") or [] if len(path) == 1)
        namespace = stream.get("namespace")
        physical = f"{namespace}.{stream['name']}" if namespace else None
        offered.append(
            OfferedStream(stream["name"], dict(stream.get("json_schema") or {}), keys, physical)
        )
    return offered
