"""Contracts written from a discovered stream: a starting point the user edits.

Each property gets its ``logicalType``/``physicalType`` (``shape.column_of_property``),
``required``, ``primaryKey`` (with ``primaryKeyPosition``, and ``unique`` for a one-column
key), the JSON schema's bounds as ``logicalTypeOptions`` and its ``enum`` as an
``invalidValues`` rule. The enforcement modes are written out with their defaults.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from dativo_ingest.contracts.model import DEFAULT_ENFORCEMENT, ENFORCEMENT_PROPERTY, TYPE_OPTIONS
from dativo_ingest.contracts.shape import column_of_property
from dativo_ingest.exceptions import ConfigurationError

CONTRACT_VERSION = "1.0.0"
HEADER = (
    "# Written by `dativo contract generate` from {source}'s discovery: a starting point to\n"
    "# edit (types, rules, enforcement). The format: docs/contracts.md\n"
)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def file_name(stream: str) -> str:
    """The contract file of a stream: ``<stream>.yaml``, characters unsafe in a file name
    replaced by ``_``."""
    return f"{_UNSAFE.sub('_', stream).strip('.') or 'stream'}.yaml"


def contract_document(
    source: str,
    stream: str,
    schema: Mapping[str, Any],
    keys: Sequence[str],
    physical_name: str | None = None,
) -> dict[str, Any]:
    """The ODCS document of one stream of ``source`` (the connector's name)."""
    listed = set(schema.get("required") or [])
    properties = [
        _property(name, prop, name in listed, keys)
        for name, prop in (schema.get("properties") or {}).items()
    ]
    obj: dict[str, Any] = {"name": stream, "logicalType": "object"}
    if physical_name:
        obj["physicalName"] = physical_name
    obj["properties"] = properties
    return {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": _UNSAFE.sub("-", f"{source}-{stream}").strip("-").lower(),
        "version": CONTRACT_VERSION,
        "status": "draft",
        "schema": [obj],
        "customProperties": [
            {"property": ENFORCEMENT_PROPERTY, "value": DEFAULT_ENFORCEMENT.model_dump()}
        ],
    }


def contract_text(source: str, document: Mapping[str, Any]) -> str:
    """The YAML of a contract, with a header naming where it came from."""
    body = yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True, width=100)
    return HEADER.format(source=source) + body


def _property(name: str, prop: Any, listed: bool, keys: Sequence[str]) -> dict[str, Any]:
    column = column_of_property(prop, listed, name in keys)
    entry: dict[str, Any] = {"name": name}
    if column.logical_type:
        entry["logicalType"] = column.logical_type
    if column.physical_type:
        entry["physicalType"] = column.physical_type
    if column.required:
        entry["required"] = True
    if column.primary_key:
        entry["primaryKey"] = True
        if len(keys) > 1:
            entry["primaryKeyPosition"] = list(keys).index(name) + 1
        else:
            entry["unique"] = True
    if not isinstance(prop, dict):
        return entry
    options = _options(column.logical_type, prop)
    if options:
        entry["logicalTypeOptions"] = options
    allowed = prop.get("enum")
    if isinstance(allowed, list):
        valid = [value for value in allowed if value is not None]
        rule = {"validValues": valid}
        entry["quality"] = [
            {"type": "library", "metric": "invalidValues", "arguments": rule, "mustBe": 0}
        ]
    nested = prop.get("properties")
    if column.logical_type == "object" and isinstance(nested, dict):
        inner = set(prop.get("required") or [])
        entry["properties"] = [_property(n, p, n in inner, ()) for n, p in nested.items()]
    items = prop.get("items")
    if column.logical_type == "array" and isinstance(items, dict):
        item = _property("items", items, False, ())
        item.pop("required", None)
        entry["items"] = item
    return entry


def _options(logical: str | None, prop: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON schema's constraints that are ``logicalTypeOptions`` of ``logical``."""
    if logical is None:
        return {}
    allowed = TYPE_OPTIONS[logical] - {"format"}
    return {
        key: value
        for key, value in prop.items()
        if key in allowed and (key == "uniqueItems" or not isinstance(value, bool))
    }


def write_contracts(files: Mapping[Path, str], force: bool = False) -> None:
    """Write each file's text; nothing at all when one exists already, unless ``force``."""
    there = [str(path) for path in files if path.exists()]
    if there and not force:
        raise ConfigurationError(
            f"contract files exist already (give --force to overwrite them): {', '.join(there)}"
        )
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
