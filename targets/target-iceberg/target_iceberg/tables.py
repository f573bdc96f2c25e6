"""A stream's Iceberg table: created with its partition spec, or loaded and evolved.

Columns come from the Singer schema (target-parquet's mapping, every column optional). A
SCHEMA adding fields or making them optional evolves the table with ``union_by_name`` in one
metadata commit (no snapshot); a type change Iceberg does not allow (anything but int -> long,
float -> double, a wider decimal) is a ``SchemaError`` naming the fields.
"""

from __future__ import annotations

import typing as t

import pyarrow as pa
from pyiceberg.exceptions import NoSuchTableError, ValidationError
from pyiceberg.transforms import parse_transform

from dativo_connector_kit.target import SchemaError

if t.TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

    from target_iceberg.settings import PartitionField
    from target_parquet.columns import Column

ALLOWED_CHANGES = "new fields, optional fields, int -> long, float -> double, wider decimals"


def arrow_schema(columns: dict[str, Column]) -> pa.Schema:
    """The Arrow schema of a stream's columns, every field nullable (Iceberg optional)."""
    return pa.schema([pa.field(name, column.arrow_type) for name, column in columns.items()])


def open_table(
    catalog: Catalog,
    identifier: tuple[str, str],
    schema: pa.Schema,
    partitions: tuple[PartitionField, ...],
) -> Table:
    """Load the table and evolve it to hold ``schema``; or create it, partitioned."""
    try:
        table = catalog.load_table(identifier)
    except NoSuchTableError:
        return _create(catalog, identifier, schema, partitions)
    _evolve(table, schema)
    return table


def spec_of(table: Table) -> list[tuple[str, str]]:
    """The table's partition fields as (source column, transform) pairs."""
    schema = table.schema()
    return [
        (schema.find_column_name(field.source_id) or "?", str(field.transform))
        for field in table.spec().fields
    ]


def _create(
    catalog: Catalog,
    identifier: tuple[str, str],
    schema: pa.Schema,
    partitions: tuple[PartitionField, ...],
) -> Table:
    """Create the table and its partition spec in one catalog commit."""
    with catalog.create_table_transaction(identifier, schema) as transaction:
        if partitions:
            with transaction.update_spec() as spec:
                for partition in partitions:
                    if partition.field not in schema.names:
                        raise SchemaError(
                            f"partition field {partition.field!r} is not in the schema"
                        )
                    transform = parse_transform(partition.transform)
                    name = partition.field if partition.transform == "identity" else None
                    try:
                        spec.add_field(partition.field, transform, name)
                    except (ValueError, ValidationError) as exc:
                        raise SchemaError(
                            f"cannot partition by {partition.transform}({partition.field}): {exc}"
                        ) from None
    return catalog.load_table(identifier)


def _evolve(table: Table, schema: pa.Schema) -> None:
    """Add new fields and allowed promotions; refuse any other type change."""
    current = table.schema().as_arrow()
    changes = [
        field.name
        for field in schema
        if current.get_field_index(field.name) < 0
        or not _same(current.field(field.name).type, field.type)
    ]
    if not changes:
        return
    try:
        with table.update_schema() as update:
            update.union_by_name(schema)
    except ValidationError as exc:
        described = "; ".join(
            f"field {name!r} is {current.field(name).type} in the table, {schema.field(name).type}"
            " in the SCHEMA"
            for name in changes
            if current.get_field_index(name) >= 0
        )
        raise SchemaError(
            f"{described or exc}: Iceberg allows only {ALLOWED_CHANGES} ({exc}); write the "
            "stream to a new table (table_names) to change a type"
        ) from None


def _same(first: pa.DataType, second: pa.DataType) -> bool:
    """Equal types, counting string and large_string (and their lists) as the same."""
    return _plain(first) == _plain(second)


def _plain(kind: pa.DataType) -> pa.DataType:
    if pa.types.is_large_string(kind):
        return pa.string()
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return pa.list_(_plain(kind.value_type))
    if pa.types.is_struct(kind):
        return pa.struct([pa.field(field.name, _plain(field.type)) for field in kind])
    return kind
