"""Reading one file's rows as typed values: the hot loop of both sync paths."""

from __future__ import annotations

import typing as t

from tap_csv.columns import converter
from tap_csv.errors import DataError
from tap_csv.files import open_rows
from tap_csv.layout import READ_ERRORS, file_columns

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Iterator, Sequence

    from tap_csv.layout import Layout
    from tap_csv.settings import FileSpec

LOGGED_BAD_ROWS = 10  # skipped rows logged one by one; the rest only counted


class BadRows:
    """What happens to a bad row: a DataError, or (``skip``) a warning and a count."""

    def __init__(self, stream: str, *, skip: bool, logger: logging.Logger) -> None:
        self.stream = stream
        self.skip = skip
        self.count = 0
        self._logger = logger

    def report(self, path: str, line: int, reason: str) -> None:
        error = DataError(self.stream, path, line, reason)
        if not self.skip:
            raise error
        self.count += 1
        if self.count <= LOGGED_BAD_ROWS:
            self._logger.warning("skipped bad row: %s", error)

    def log_summary(self) -> None:
        if self.count:
            self._logger.warning("stream %r: skipped %d bad rows", self.stream, self.count)


def read_rows(
    spec: FileSpec, layout: Layout, path: str, names: Sequence[str], bad_rows: BadRows
) -> Iterator[list[t.Any]]:
    """The values of columns `names`, converted to their types, row by row. Blank lines are
    skipped; a row with the wrong number of fields or an unconvertible value goes to
    `bad_rows`; a file whose content cannot be read raises DataError."""
    with open_rows(spec, path) as reader:
        try:
            found = file_columns(spec, reader)
            if found is None:
                return
            if sorted(found) != sorted(layout.columns):
                raise DataError(
                    bad_rows.stream,
                    path,
                    reader.line_num,
                    f"columns {list(found)} differ from the stream's {list(layout.columns)}",
                )
            yield from _convert(reader, path, layout, found, names, bad_rows)
        except UnicodeDecodeError as exc:  # text is decoded in chunks: the line is approximate
            reason = f"not {spec.encoding} text at or after this line: {exc.reason}"
            raise DataError(bad_rows.stream, path, reader.line_num + 1, reason) from exc
        except READ_ERRORS as exc:
            raise DataError(bad_rows.stream, path, reader.line_num, f"unreadable: {exc}") from exc


def _convert(
    reader: t.Any,
    path: str,
    layout: Layout,
    found: tuple[str, ...],
    names: Sequence[str],
    bad_rows: BadRows,
) -> Iterator[list[t.Any]]:
    width = len(found)
    conversions = [
        (found.index(name), convert)
        for name in names
        if (convert := converter(layout.types[name])) is not None
    ]
    project = None if tuple(names) == found else [found.index(name) for name in names]
    for row in reader:
        if len(row) != width:
            if row:
                bad_rows.report(path, reader.line_num, f"{len(row)} fields, expected {width}")
            continue
        try:
            for index, convert in conversions:
                text = row[index]
                row[index] = convert(text) if text else None
        except ValueError as exc:
            column = found[index]
            kind = layout.types[column]
            reason = f"column {column!r}: {text!r} is not a valid {kind} ({exc})"
            bad_rows.report(path, reader.line_num, reason)
            continue
        yield row if project is None else [row[index] for index in project]
