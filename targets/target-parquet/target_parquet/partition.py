"""Hive partitioning: split a batch's table into ``key=value/`` folders, vectorised.

A value partition (``"country"``) takes the field's value as text and removes the column from
the files (readers rebuild it from the folder name, as Hive does). A derived partition
(``{"field": "ts", "granularity": "day"}``) formats a date-time or date field (``ts_date=
2024-01-01``) and keeps the field. Null or empty values, and date-times that cannot be read,
go to ``key=__HIVE_DEFAULT_PARTITION__``. Values are percent-encoded (``/`` -> ``%2F``).
"""

from __future__ import annotations

import typing as t
from urllib.parse import quote

import pyarrow as pa

from target_parquet.columns import SCALARS, Column, Kind
from target_parquet.convert import timestamps

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from target_parquet.settings import PartitionSpec

DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"
FORMATS = {"year": "%Y", "month": "%Y-%m", "day": "%Y-%m-%d", "hour": "%Y-%m-%dT%H"}
_DATED = (Kind.TIMESTAMP, Kind.DATE)


def check_partitions(
    stream: str, specs: tuple[PartitionSpec, ...], columns: dict[str, Column]
) -> str | None:
    """Why the stream's columns cannot be partitioned by ``specs``, or None if they can."""
    for spec in specs:
        column = columns.get(spec.field)
        if column is None:
            return f"stream {stream!r} has no field {spec.field!r} to partition by"
        if spec.granularity and column.kind not in _DATED:
            return (
                f"stream {stream!r}: field {spec.field!r} is {column.describe()}; a partition "
                f"by {spec.granularity} needs a date-time or date field"
            )
        if column.kind not in SCALARS:
            return f"stream {stream!r}: field {spec.field!r} is {column.describe()}, not a scalar"
    names = {spec.name for spec in specs}
    clash = names & (columns.keys() - {spec.field for spec in specs if not spec.granularity})
    if clash:
        return f"stream {stream!r}: partition {', '.join(sorted(clash))} has the name of a field"
    return None


def split(specs: tuple[PartitionSpec, ...], table: pa.Table) -> Iterator[tuple[str, pa.Table]]:
    """Yield (relative folder, rows) per partition; rows keep their order within a folder."""
    if not specs:
        yield "", table
        return
    import pyarrow.compute as pc  # here: unpartitioned runs do without it (see kernels.py)

    segments = [_segments(spec, table) for spec in specs]
    paths = segments[0] if len(segments) == 1 else pc.binary_join_element_wise(*segments, "/")
    table = table.drop_columns([spec.field for spec in specs if not spec.granularity])
    encoded = pc.dictionary_encode(paths)
    folders = encoded.dictionary.to_pylist()
    if len(folders) == 1:
        yield folders[0], table
        return
    order = pc.sort_indices(encoded.indices)  # stable: rows keep their order
    runs = pc.run_end_encode(encoded.indices.take(order))
    ordered = table.take(order)
    start = 0
    for end, folder in zip(runs.run_ends.to_pylist(), runs.values.to_pylist(), strict=True):
        yield folders[folder], ordered.slice(start, end - start)
        start = end


def _segments(spec: PartitionSpec, table: pa.Table) -> pa.Array:
    """One ``name=value`` string per row."""
    import pyarrow.compute as pc

    values = table.column(spec.field).combine_chunks()
    if spec.granularity:
        if pa.types.is_string(values.type):  # date-times that did not all parse, stored as text
            values = timestamps(values, lenient=True)
        text = pc.strftime(values, format=FORMATS[spec.granularity])
    elif pa.types.is_timestamp(values.type):
        text = pc.strftime(values, format="%Y-%m-%dT%H:%M:%SZ")
    else:
        text = pc.cast(values, pa.string())
    encoded = pc.dictionary_encode(text)
    names = [
        f"{spec.name}={quote(value, safe='') if value else DEFAULT_PARTITION}"
        for value in encoded.dictionary.to_pylist()
    ]
    return pa.array([*names, f"{spec.name}={DEFAULT_PARTITION}"], pa.string()).take(
        pc.fill_null(encoded.indices, len(names))
    )
