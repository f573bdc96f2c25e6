"""A stream as its SCHEMA message describes it: table location, columns, key properties.

Naming rule (that of meltanolabs-target-postgres): the table is the part of the stream name
after its last ``-`` (``public-orders`` -> ``orders``), kept exactly (case and all, quoted);
the schema is ``default_target_schema`` (default ``melty``) or, when that is empty, the part
before the table in a ``<schema>-<table>`` or ``<db>-<schema>-<table>`` name, else ``public``.
Column names are the property names, unchanged.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field
from decimal import Decimal

from dativo_connector_kit.decimals import DecimalReader, decimal_fields
from target_postgres.sqltypes import BIGINT, TIMESTAMPTZ, sql_type

MAX_IDENTIFIER_BYTES = 63  # Postgres truncates longer names (NAMEDATALEN - 1)

# Metadata columns (add_record_metadata), as the Singer SDK defines them. The loader computes
# them, but for _sdc_deleted_at, taken from the record (taps mark deletions with it).
METADATA_COLUMNS: dict[str, str] = {
    "_sdc_extracted_at": TIMESTAMPTZ,
    "_sdc_received_at": TIMESTAMPTZ,
    "_sdc_batched_at": TIMESTAMPTZ,
    "_sdc_deleted_at": TIMESTAMPTZ,
    "_sdc_sequence": BIGINT,
    "_sdc_table_version": BIGINT,
    "_sdc_sync_started_at": BIGINT,
}
# The metadata columns whose value is the same for every row of a batch: rows bound for a
# staging table leave them out, and the merge writes them (see ``statements``).
BATCH_METADATA = frozenset(
    ("_sdc_received_at", "_sdc_batched_at", "_sdc_sequence", "_sdc_sync_started_at")
)
VERSION_COLUMN = "_sdc_table_version"
DELETED_AT_COLUMN = "_sdc_deleted_at"


class SchemaError(ValueError):
    """A SCHEMA message this target cannot load."""


@dataclass(frozen=True)
class StreamSpec:
    """One stream's destination and columns, from its latest SCHEMA message."""

    stream: str
    schema_name: str
    table: str
    properties: dict[str, t.Any]  # property name -> its JSON schema
    columns: dict[str, str]  # column name -> desired type, in table order
    key_properties: tuple[str, ...]
    record_columns: tuple[str, ...]  # the properties' columns (metadata columns excluded)
    with_metadata: bool
    required: tuple[str, ...] = ()  # the schema's "required" properties
    not_null: frozenset[str] = frozenset()  # required properties whose type excludes null
    decimals: DecimalReader[Decimal] | None = field(default=None, compare=False)

    @property
    def staged_columns(self) -> tuple[str, ...]:
        """The columns a staging table holds, in table order: all but ``BATCH_METADATA``."""
        if not self.with_metadata:
            return tuple(self.columns)
        return tuple(name for name in self.columns if name not in BATCH_METADATA)

    @property
    def label(self) -> str:
        """How messages name the stream and its table."""
        return f"stream {self.stream!r} (table {self.schema_name}.{self.table})"


def table_location(stream: str, default_schema: str) -> tuple[str, str]:
    """``(schema, table)`` receiving a stream, by the naming rule above."""
    parts = stream.split("-")
    if default_schema:
        schema = default_schema
    elif len(parts) in (2, 3):
        schema = parts[-2]
    else:
        schema = "public"
    return schema, parts[-1]


def spec_from_schema(
    stream: str, message: dict[str, t.Any], default_schema: str, with_metadata: bool
) -> StreamSpec:
    """Build the spec of a SCHEMA message; raise ``SchemaError`` when it cannot be loaded."""
    schema = message.get("schema")
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        raise SchemaError('SCHEMA has no "schema" object with "properties"')
    keys = message.get("key_properties") or []
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        raise SchemaError('"key_properties" must be a list of property names')
    if missing := [key for key in keys if key not in properties]:
        raise SchemaError(f"key properties {missing} are not in the schema's properties")
    schema_name, table = table_location(stream, default_schema)
    columns = {name: sql_type(spec) for name, spec in properties.items()}
    if with_metadata:
        for name in METADATA_COLUMNS:
            columns.pop(name, None)
        columns.update(METADATA_COLUMNS)
    if not columns:
        raise SchemaError("the schema has no properties (and add_record_metadata is false)")
    record_columns = tuple(
        name for name in columns if not with_metadata or name not in METADATA_COLUMNS
    )
    for name in (schema_name, table, *columns):
        if not name or len(name.encode()) > MAX_IDENTIFIER_BYTES or "\0" in name:
            raise SchemaError(
                f"name {name!r} cannot be a Postgres identifier (1 to "
                f"{MAX_IDENTIFIER_BYTES} bytes, no NUL)"
            )
    decimals = decimal_fields({name: properties[name] for name in record_columns})
    return StreamSpec(
        stream=stream,
        schema_name=schema_name,
        table=table,
        properties=properties,
        columns=columns,
        key_properties=tuple(keys),
        record_columns=record_columns,
        with_metadata=with_metadata,
        required=tuple(name for name in schema.get("required") or () if isinstance(name, str)),
        not_null=_not_null(schema, properties),
        decimals=DecimalReader.for_fields(decimals, Decimal) if decimals else None,
    )


def _not_null(schema: dict[str, t.Any], properties: dict[str, t.Any]) -> frozenset[str]:
    """Properties the schema requires and whose ``type`` does not allow null."""
    required = schema.get("required")
    if not isinstance(required, list):
        return frozenset()
    return frozenset(
        name
        for name in required
        if isinstance(spec := properties.get(name), dict)
        and isinstance(kind := spec.get("type"), str | list)
        and "null" not in ([kind] if isinstance(kind, str) else kind)
    )
