"""Drift between contracts and discovered schemas, on typed shapes: which JSON schemas map to
which logical and physical types, and which differences count as a change."""

from __future__ import annotations

import yaml

from dativo_ingest.contracts.diff import Drift, diff_streams
from dativo_ingest.contracts.model import AssetContract
from dativo_ingest.contracts.shape import Column, shape_of_contract, shape_of_schema

SCHEMA = {
    "type": "object",
    "required": ["listed"],
    "properties": {
        "id": {"type": "integer"},
        "price": {"type": ["number", "null"], "multipleOf": 0.01},
        "seen": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
        "mixed": {"type": ["integer", "number", "null"]},
        "doc": {"type": ["object", "array", "string", "null"], "x-sql-datatype": "jsonb"},
        "listed": {"type": ["string", "null"]},
        "untyped": {},
    },
}
CONTRACT = """
apiVersion: v3.1.0
kind: DataContract
id: c
version: 1.0.0
schema:
  - name: items
    properties:
      - {name: id, logicalType: integer, required: true, primaryKey: true}
      - {name: price, logicalType: number, physicalType: NUMERIC}
      - {name: seen, logicalType: timestamp}
      - {name: mixed, logicalType: number, physicalType: double precision}
      - {name: doc, physicalType: jsonb}
      - {name: listed, logicalType: string, required: true}
      - {name: untyped}
"""


def test_json_schema_types_map_to_logical_and_physical_types():
    shape = shape_of_schema("items", SCHEMA, ["id"])
    assert shape.columns == {
        "id": Column("integer", None, required=True, primary_key=True),
        "price": Column("number", "numeric"),
        "seen": Column("timestamp"),
        "mixed": Column("number"),
        "doc": Column(None, "jsonb"),
        "listed": Column("string", required=True),
        "untyped": Column(None),
    }


def test_a_contract_that_says_the_same_shows_no_drift_whatever_the_spelling():
    contract = AssetContract.model_validate(yaml.safe_load(CONTRACT))
    offered = {"items": shape_of_schema("items", SCHEMA, ["id"])}
    # physical types compare without case; a side that names none does not count
    assert diff_streams({"items": shape_of_contract("items", contract)}, offered) == []


def test_streams_added_and_removed_and_column_changes():
    contract = AssetContract.model_validate(yaml.safe_load(CONTRACT))
    properties = {name: p for name, p in SCHEMA["properties"].items() if name != "listed"}
    schema = {
        "properties": {
            **properties,
            "id": {"type": ["string", "null"]},
            "doc": {"type": ["object", "null"], "x-sql-datatype": "json"},
            "note": {"type": "string"},
        }
    }
    offered = {
        "items": shape_of_schema("items", schema, ["id"]),
        "other": shape_of_schema("other", {}, []),
    }
    contracts = {
        "items": shape_of_contract("items", contract),
        "gone": shape_of_contract("gone", contract),
    }
    assert diff_streams(contracts, offered) == [
        Drift("other", "stream added"),
        Drift("gone", "stream removed"),
        Drift("items", "column added", "note", None, "string"),
        Drift("items", "column removed", "listed", "string", None),
        Drift("items", "type changed", "id", "integer", "string"),
        Drift("items", "required changed", "id", "required", "optional"),
        Drift("items", "type changed", "doc", "any (jsonb)", "object (json)"),
    ]
