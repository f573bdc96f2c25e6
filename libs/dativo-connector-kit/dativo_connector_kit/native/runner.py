"""``dativo-native``: runs a native connector class as a Singer tap.

``dativo-native --entrypoint module:Class --config FILE [--state FILE] [--catalog FILE]``
syncs; ``--discover`` prints a catalog from ``discover()``; ``--test`` calls
``check_connection()``. One object is synced per run: the catalog's selected stream, handed to
the extractor as ``source_config.object``. SCHEMA comes from the catalog, RECORDs from the
batches of ``extract()`` (a record with a field the object's schema does not declare stops
the run before it is written: it belongs to another object), and each ``update_state`` call
becomes a STATE message.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import orjson

from dativo_connector_kit.errors import ConfigurationError, ConnectorError, exit_on_error
from dativo_connector_kit.native.config import SourceConfig
from dativo_connector_kit.native.logs import configure_logging
from dativo_connector_kit.native.state import IncrementalStateManager, SingerBookmarks

PROGRAM = "dativo-native"


def stream_id(stream: dict[str, Any]) -> str:
    """A catalog stream's id (``tap_stream_id``, else ``stream``)."""
    return str(stream.get("tap_stream_id") or stream.get("stream"))


def is_selected(stream: dict[str, Any]) -> bool:
    """The stream-level ``selected`` of its metadata (breadcrumb ``[]``); true when unset."""
    for entry in stream.get("metadata", []):
        if not entry.get("breadcrumb"):
            return bool(entry.get("metadata", {}).get("selected", True))
    return True


def load_class(entrypoint: str) -> type:
    module_name, _, class_name = entrypoint.partition(":")
    try:
        found: type = getattr(importlib.import_module(module_name), class_name)
        return found
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"cannot load native connector {entrypoint!r}: {exc}") from None


def read_json(path: str | None) -> Any:
    if path is None:
        return None
    try:
        return orjson.loads(Path(path).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ConfigurationError(f"cannot read {path}: {exc}") from None


def catalog_from_objects(discovered: dict[str, Any]) -> dict[str, Any]:
    """The guide's ``{"objects": [{name, type, schema}]}`` as a Singer catalog; an object may
    declare ``key_properties`` and a ``replication_key`` (its stream is then INCREMENTAL)."""
    streams = []
    for obj in discovered.get("objects", []):
        keys = list(obj.get("key_properties") or obj.get("primary_keys") or [])
        metadata: dict[str, Any] = {"table-key-properties": keys}
        stream = {
            "tap_stream_id": obj["name"],
            "stream": obj["name"],
            "key_properties": keys,
            "schema": obj.get("schema") or {"type": "object", "properties": {}},
            "metadata": [{"breadcrumb": [], "metadata": metadata}],
        }
        replication_key = obj.get("replication_key")
        if replication_key:
            metadata["valid-replication-keys"] = [replication_key]
            metadata["replication-key"] = stream["replication_key"] = replication_key
            metadata["replication-method"] = stream["replication_method"] = "INCREMENTAL"
        streams.append(stream)
    return {"streams": streams}


def replication_key(stream: dict[str, Any]) -> str | None:
    """The stream's replication key (its metadata's, else the stream's), or None."""
    for entry in stream.get("metadata", []):
        if not entry.get("breadcrumb"):
            return entry.get("metadata", {}).get("replication-key") or stream.get("replication_key")
    return stream.get("replication_key")


def selected_streams(catalog: dict[str, Any]) -> list[dict[str, Any]]:
    chosen = [stream for stream in catalog["streams"] if is_selected(stream)]
    if len(chosen) != 1:
        names = ", ".join(stream_id(s) for s in chosen) or "none"
        raise ConfigurationError(
            f"a native connector extracts one object per run; selected: {names}"
        )
    return chosen


def declared_fields(schema: dict[str, Any]) -> frozenset[str] | None:
    """The fields a record of ``schema`` may have, or None when any field is allowed (no
    ``properties``, or ``additionalProperties: true``)."""
    properties = schema.get("properties")
    if not properties or schema.get("additionalProperties") is True:
        return None
    return frozenset(properties)


def write_records(
    out: IO[bytes], stream: dict[str, Any], batches: Iterable[list[dict[str, Any]]]
) -> int:
    """Write each batch as RECORDs of ``stream``; a record with an undeclared field is an
    error raised before that batch is written."""
    name = stream_id(stream)
    head = b'{"type":"RECORD","stream":' + orjson.dumps(name) + b',"record":'
    declared = declared_fields(stream["schema"])
    count = 0
    for batch in batches:
        if declared is not None:
            for record in batch:
                if not record.keys() <= declared:
                    extra = ", ".join(sorted(record.keys() - declared))
                    raise ConnectorError(
                        f"extract() yielded a record with fields ({extra}) that object "
                        f"{name!r}'s schema does not declare: records must be the selected "
                        "object's (the extractor reads it from source_config.object)"
                    )
        out.write(b"".join(head + orjson.dumps(record) + b"}\n" for record in batch))
        count += len(batch)
    return count


@exit_on_error(PROGRAM)
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROGRAM, description=__doc__.splitlines()[0])
    parser.add_argument("--entrypoint", required=True, help="module:Class")
    parser.add_argument("--config", required=True)
    parser.add_argument("--state")
    parser.add_argument("--catalog")
    parser.add_argument("--properties", dest="catalog")
    parser.add_argument("--discover", action="store_true")
    parser.add_argument("--test", action="store_true")
    args = parser.parse_args(argv)
    configure_logging()  # "time LEVEL message" on stderr: dativo reads each line's level

    connector = load_class(args.entrypoint)
    config = read_json(args.config) or {}
    state = read_json(args.state)
    out = sys.stdout.buffer
    bookmarks = SingerBookmarks(state, out)
    manager = IncrementalStateManager(bookmarks)

    def extractor(selected: str | None = None) -> Any:
        source_config = SourceConfig.for_run(config, incremental=state is not None, object=selected)
        return connector(source_config, manager)

    if args.test:
        result = extractor().check_connection()
        print(f"{PROGRAM}: {result.get('message', '')}", file=sys.stderr)
        return 0 if result.get("success") else 1
    catalog = read_json(args.catalog) or catalog_from_objects(extractor().discover())
    if args.discover:
        out.write(orjson.dumps(catalog, option=orjson.OPT_INDENT_2) + b"\n")
        return 0
    (stream,) = selected_streams(catalog)
    name = stream_id(stream)
    schema: dict[str, Any] = {
        "type": "SCHEMA",
        "stream": name,
        "schema": stream["schema"],
        "key_properties": stream.get("key_properties", []),
    }
    key = replication_key(stream)
    if key:
        schema["bookmark_properties"] = [key]
    out.write(orjson.dumps(schema) + b"\n")
    count = write_records(out, stream, extractor(name).extract())
    out.write(orjson.dumps({"type": "STATE", "value": bookmarks.state}) + b"\n")
    out.flush()
    print(f"{PROGRAM}: {count} records from {name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
