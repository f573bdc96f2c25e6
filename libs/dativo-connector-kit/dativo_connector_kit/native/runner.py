"""``dativo-native``: runs a native connector class as a Singer tap.

``dativo-native --entrypoint module:Class --config FILE [--state FILE] [--catalog FILE]``
syncs; ``--discover`` prints a catalog from ``discover()``; ``--test`` calls
``check_connection()``. SCHEMA comes from ``discover()``, RECORDs from the batches of
``extract()``, and each ``update_state`` call becomes a STATE message.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import orjson

from dativo_connector_kit.errors import ConfigurationError, exit_on_error
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
        return getattr(importlib.import_module(module_name), class_name)
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
    """The guide's ``{"objects": [{name, type, schema}]}`` as a Singer catalog."""
    streams = []
    for obj in discovered.get("objects", []):
        keys = list(obj.get("key_properties") or obj.get("primary_keys") or [])
        stream = {
            "tap_stream_id": obj["name"],
            "stream": obj["name"],
            "key_properties": keys,
            "schema": obj.get("schema") or {"type": "object", "properties": {}},
            "metadata": [{"breadcrumb": [], "metadata": {"table-key-properties": keys}}],
        }
        streams.append(stream)
    return {"streams": streams}


def selected_streams(catalog: dict[str, Any]) -> list[dict[str, Any]]:
    chosen = [stream for stream in catalog["streams"] if is_selected(stream)]
    if len(chosen) != 1:
        names = ", ".join(stream_id(s) for s in chosen) or "none"
        raise ConfigurationError(
            f"a native connector extracts one object per run; selected: {names}"
        )
    return chosen


def write_records(out: IO[bytes], stream: str, batches: Iterable[list[dict[str, Any]]]) -> int:
    head = b'{"type":"RECORD","stream":' + orjson.dumps(stream) + b',"record":'
    count = 0
    for batch in batches:
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
    state = read_json(args.state)
    out = sys.stdout.buffer
    bookmarks = SingerBookmarks(state, out)
    source_config = SourceConfig.for_run(
        args.entrypoint, read_json(args.config) or {}, incremental=state is not None
    )
    extractor = connector(source_config, IncrementalStateManager(bookmarks))
    if args.test:
        result = extractor.check_connection()
        print(f"{PROGRAM}: {result.get('message', '')}", file=sys.stderr)
        return 0 if result.get("success") else 1
    catalog = read_json(args.catalog) or catalog_from_objects(extractor.discover())
    if args.discover:
        out.write(orjson.dumps(catalog, option=orjson.OPT_INDENT_2) + b"\n")
        return 0
    (stream,) = selected_streams(catalog)
    name = stream_id(stream)
    schema = {
        "type": "SCHEMA",
        "stream": name,
        "schema": stream["schema"],
        "key_properties": stream.get("key_properties", []),
    }
    out.write(orjson.dumps(schema) + b"\n")
    count = write_records(out, name, extractor.extract())
    out.write(orjson.dumps({"type": "STATE", "value": bookmarks.state}) + b"\n")
    out.flush()
    print(f"{PROGRAM}: {count} records from {name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
