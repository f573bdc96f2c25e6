"""A stream's columns and their types: from the header (or `columns`), the declared
`schema` and a sample of rows for the rest."""

from __future__ import annotations

import csv
import typing as t
from dataclasses import dataclass

from dativo_connector_kit import ConfigurationError
from tap_csv.columns import TypeInference, json_schema
from tap_csv.files import open_rows

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from tap_csv.files import SourceFile
    from tap_csv.settings import FileSpec

# What reading a file's start can raise: unreadable, undecodable, not gzip, truncated, bad CSV.
READ_ERRORS = (OSError, UnicodeDecodeError, EOFError, csv.Error)


@dataclass(frozen=True)
class Layout:
    """The stream's columns in order, and each one's type."""

    columns: tuple[str, ...]
    types: Mapping[str, str]

    def json_schema(self) -> dict[str, t.Any]:
        properties = {column: json_schema(self.types[column]) for column in self.columns}
        return {"type": "object", "properties": properties}


def file_columns(spec: FileSpec, reader: Iterator[list[str]]) -> tuple[str, ...] | None:
    """Consume the header row, if files have one; return the file's columns in file order,
    None when the file is empty."""
    if not spec.header:
        return spec.columns
    header = next(reader, None)
    if header is None:
        return None
    return spec.columns or tuple(header)


def discover_layout(spec: FileSpec, files: list[SourceFile]) -> Layout:
    """Read the first file's header and sample rows; ``ConfigurationError`` says what is
    unusable (the caller prefixes the entry)."""
    first = files[0].path
    try:
        with open_rows(spec, first) as reader:
            columns = file_columns(spec, reader)
    except READ_ERRORS as exc:
        raise ConfigurationError(f"cannot read {first}: {exc}") from exc
    if not columns:
        raise ConfigurationError(f"{first} has no header row")
    if duplicates := sorted({column for column in columns if columns.count(column) > 1}):
        raise ConfigurationError(f"{first} repeats column names in its header: {duplicates}")
    if missing := [name for name in spec.named_columns if name not in columns]:
        raise ConfigurationError(
            f"{missing} (named by keys/replication_key/schema) are not columns of {first}, "
            f"whose columns are {list(columns)}"
        )
    types = {column: spec.schema.get(column, "string") for column in columns}
    undeclared = [column for column in columns if column not in spec.schema]
    if undeclared and spec.infer_rows:
        types.update(_infer(spec, files, columns, undeclared))
    return Layout(columns, types)


def _infer(
    spec: FileSpec, files: list[SourceFile], columns: tuple[str, ...], undeclared: list[str]
) -> dict[str, str]:
    inference = TypeInference(undeclared)
    positions = [(column, columns.index(column)) for column in undeclared]
    for row in _sample(spec, files, columns):
        for column, position in positions:
            inference.add(column, row[position])
    return inference.result()


def _sample(
    spec: FileSpec, files: Iterable[SourceFile], columns: tuple[str, ...]
) -> Iterator[list[str]]:
    """Up to `infer_rows` well-formed rows in the stream's column order, across files."""
    wanted = spec.infer_rows
    for source in files:
        try:
            with open_rows(spec, source.path) as reader:
                found = file_columns(spec, reader)
                if found is None or sorted(found) != sorted(columns):
                    continue  # reading the file fails later, naming the difference
                order = [found.index(column) for column in columns]
                for row in reader:
                    if len(row) == len(order):
                        yield [row[index] for index in order]
                        wanted -= 1
                        if not wanted:
                            return
        except READ_ERRORS as exc:
            raise ConfigurationError(f"cannot read {source.path}: {exc}") from exc
