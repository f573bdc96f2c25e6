"""The tap's settings: their JSON schema (shown by ``--about``) and the checked, typed form.

The Singer SDK validates the config against ``CONFIG_SCHEMA``; ``parse_files`` then checks
what a schema cannot (rules between settings) and reports every problem at once.
"""

from __future__ import annotations

import codecs
import typing as t
from dataclasses import dataclass, field

from dativo_connector_kit import ConfigurationError
from tap_csv.columns import COLUMN_TYPES

MODIFIED_TIME = "file_modified_time"
DEFAULT_INFER_ROWS = 1000

_FILE_ENTRY: dict[str, t.Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["entity", "path"],
    "properties": {
        "entity": {"type": "string", "minLength": 1, "description": "Stream name; unique."},
        "path": {
            "type": "string",
            "minLength": 1,
            "description": "A CSV file, a folder (its files, not recursive) or a glob "
            "(`data/*.csv`, `data/**/*.csv.gz`). All matching files form one stream.",
        },
        "keys": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Columns that identify a record (the stream's key properties).",
        },
        "header": {
            "type": "boolean",
            "default": True,
            "description": "Whether each file starts with a header row naming the columns.",
        },
        "columns": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
            "description": "Column names, in file order; required when `header` is false. "
            "With a header, the header row is skipped and these names replace it.",
        },
        "delimiter": {"type": "string", "default": ",", "description": "Field separator."},
        "quotechar": {
            "type": "string",
            "default": '"',
            "description": "Quote character; an empty string turns quoting off.",
        },
        "encoding": {
            "type": "string",
            "default": "utf-8-sig",
            "description": "Text encoding (a Python codec name); the default also skips a "
            "UTF-8 byte-order mark.",
        },
        "compression": {
            "type": "string",
            "enum": ["infer", "gzip", "none"],
            "default": "infer",
            "description": "`infer`: gzip when the file name ends in `.gz`.",
        },
        "schema": {
            "type": "object",
            "additionalProperties": {"type": "string", "enum": list(COLUMN_TYPES)},
            "description": "Declared column types: `{column: integer|number|boolean|date|"
            "date-time|string}`. Other columns are inferred.",
        },
        "infer_rows": {
            "type": "integer",
            "minimum": 0,
            "default": DEFAULT_INFER_ROWS,
            "description": "Rows sampled to infer undeclared column types; 0: they are strings.",
        },
        "replication_key": {
            "type": "string",
            "description": "Column for incremental sync: rows >= the bookmark are emitted, "
            "the bookmark becomes the largest value seen.",
        },
        "incremental": {
            "type": "string",
            "enum": [MODIFIED_TIME],
            "description": "`file_modified_time`: read only files new or modified since the "
            "bookmark. Exclusive with `replication_key`.",
        },
        "on_bad_row": {
            "type": "string",
            "enum": ["fail", "skip"],
            "default": "fail",
            "description": "A row with the wrong number of fields or an unconvertible value: "
            "`fail` (exit 1, naming file and line) or `skip` (logged and counted).",
        },
    },
}

CONFIG_SCHEMA: dict[str, t.Any] = {
    "type": "object",
    "required": ["files"],
    "properties": {
        "files": {
            "type": "array",
            "minItems": 1,
            "items": _FILE_ENTRY,
            "description": "The streams to read: one entry per stream.",
        }
    },
}


@dataclass(frozen=True)
class FileSpec:
    """One checked `files` entry."""

    entity: str
    path: str
    keys: tuple[str, ...] = ()
    header: bool = True
    columns: tuple[str, ...] | None = None
    delimiter: str = ","
    quotechar: str = '"'
    encoding: str = "utf-8-sig"
    compression: str = "infer"
    schema: t.Mapping[str, str] = field(default_factory=dict)
    infer_rows: int = DEFAULT_INFER_ROWS
    replication_key: str | None = None
    incremental: str | None = None
    on_bad_row: str = "fail"

    @property
    def by_modified_time(self) -> bool:
        return self.incremental == MODIFIED_TIME

    @property
    def skips_bad_rows(self) -> bool:
        return self.on_bad_row == "skip"

    @property
    def named_columns(self) -> tuple[str, ...]:
        """Columns the entry names: keys, replication key and declared types."""
        named = (*self.keys, *([self.replication_key] if self.replication_key else []))
        return (*named, *self.schema)


def parse_files(entries: t.Sequence[t.Mapping[str, t.Any]]) -> list[FileSpec]:
    """Return the checked entries; ``ConfigurationError`` lists every problem found."""
    specs = [_spec(entry) for entry in entries]
    errors = []
    entities = [spec.entity for spec in specs]
    for name in sorted({name for name in entities if entities.count(name) > 1}):
        errors.append(f"entity {name!r} is configured more than once")
    for index, spec in enumerate(specs):
        errors += [f"files[{index}] (entity {spec.entity!r}): {error}" for error in _problems(spec)]
    if errors:
        raise ConfigurationError("invalid `files` setting:\n  " + "\n  ".join(errors))
    return specs


def _spec(entry: t.Mapping[str, t.Any]) -> FileSpec:
    values = dict(entry)
    for name in ("keys", "columns"):
        if values.get(name) is not None:
            values[name] = tuple(values[name])
    return FileSpec(**{name: value for name, value in values.items() if value is not None})


def _problems(spec: FileSpec) -> list[str]:
    """What is wrong with one entry on its own (the files are checked at discovery)."""
    problems = []
    if not spec.header and not spec.columns:
        problems.append("`header: false` needs `columns` to name the columns")
    if spec.columns and len(set(spec.columns)) != len(spec.columns):
        problems.append(f"`columns` repeats names: {list(spec.columns)}")
    if spec.columns and (unknown := sorted(set(spec.named_columns) - set(spec.columns))):
        problems.append(f"{unknown} are named by keys/replication_key/schema but not columns")
    if len(spec.delimiter) != 1:
        problems.append(f"`delimiter` must be one character, not {spec.delimiter!r}")
    if len(spec.quotechar) > 1 or spec.quotechar == spec.delimiter:
        problems.append("`quotechar` must be one character (not the delimiter) or empty")
    try:
        codecs.lookup(spec.encoding)
    except LookupError:
        problems.append(f"unknown `encoding` {spec.encoding!r}")
    if spec.replication_key and spec.incremental:
        problems.append("`replication_key` and `incremental` exclude each other: choose one")
    return problems
