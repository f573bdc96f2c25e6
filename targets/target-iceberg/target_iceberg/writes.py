"""One flush of one stream: an Arrow table committed to its Iceberg table in one transaction.

- ``append``: one ``append`` snapshot.
- ``overwrite``: the run's first flush makes a ``delete`` of every row, then an ``append``,
  both in one catalog commit (readers never see the table empty); later flushes: one
  ``append``.
- ``upsert``: pyiceberg's ``upsert``; rows whose key exists and whose values changed are
  rewritten (``delete``/``overwrite``), new keys appended: 0 to 3 snapshots, one commit.

A commit that loses a race with another writer is redone by pyiceberg on the reloaded table
(table properties ``commit.retry.*``, 4 retries by default). Every snapshot carries the flush's
marks (``ledger``). Upsert keeps the last record of a key
within the batch. Its cost grows with the batch: it scans the table for the batch's keys and
compares matched rows value by value in Python, so large upserts are much slower than appends
(see the README).
"""

from __future__ import annotations

import typing as t

import pyarrow as pa
import pyarrow.compute as pc

if t.TYPE_CHECKING:
    from pyiceberg.table import Table

_ROW = "__dativo_row"


def write(
    table: Table, method: str, data: pa.Table, keys: tuple[str, ...], marks: dict[str, str]
) -> Table:
    """Commit ``data`` to ``table`` by ``method``; return the table as committed."""
    data = _aligned(data, table.schema().as_arrow())
    with table.transaction() as transaction:
        if method == "append":
            transaction.append(data, snapshot_properties=marks)
        elif method == "overwrite":
            transaction.overwrite(data, snapshot_properties=marks)
        else:
            transaction.upsert(
                _last_per_key(data, list(keys)), join_cols=list(keys), snapshot_properties=marks
            )
    return table


def _aligned(data: pa.Table, schema: pa.Schema) -> pa.Table:
    """``data`` with every column of the table, in the table's order (absent ones null)."""
    if data.column_names == schema.names:
        return data
    columns = [
        data.column(field.name)
        if field.name in data.column_names
        else pa.nulls(data.num_rows, field.type)
        for field in schema
    ]
    return pa.Table.from_arrays(columns, names=schema.names)


def _last_per_key(data: pa.Table, keys: list[str]) -> pa.Table:
    """The last row of each key, in the order of those rows."""
    numbered = data.select(keys).append_column(_ROW, pa.array(range(data.num_rows), pa.int64()))
    last = numbered.group_by(keys, use_threads=False).aggregate([(_ROW, "max")])
    if last.num_rows == data.num_rows:
        return data
    rows = last.column(f"{_ROW}_max")
    return data.take(pc.take(rows, pc.sort_indices(rows)))
