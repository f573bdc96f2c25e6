"""A catalog's selection as text, the way ``meltano select --list`` shows it."""

from __future__ import annotations

from collections.abc import Iterator

from dativo_ingest.catalog.selection import Catalog, automatic_fields, metadata_entry, stream_id


def selection_lines(catalog: Catalog, fields: bool = False) -> Iterator[str]:
    """``selected  stream`` / ``skipped   stream``, and with ``fields`` one line per field:
    ``[selected ]``, ``[excluded ]`` or ``[automatic]`` ``stream.field``."""
    for stream in catalog.get("streams", []):
        sid = stream_id(stream)
        chosen = metadata_entry(stream, []).get("selected")
        yield f"{'selected' if chosen else 'skipped '}  {sid}"
        if not fields:
            continue
        automatic = automatic_fields(stream)
        for name in (stream.get("schema") or {}).get("properties") or {}:
            if chosen and name in automatic:
                mark = "automatic"
            elif metadata_entry(stream, ["properties", name]).get("selected"):
                mark = "selected "
            else:
                mark = "excluded "
            yield f"    [{mark}] {sid}.{name}"
