"""The tap-csv Tap: settings, and one stream per configured CSV file."""

from __future__ import annotations

import csv
import typing as t
from pathlib import Path

import click
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from tap_csv.streams import CSVStream, read_header

FILE_ENTRY = th.ObjectType(
    th.Property("entity", th.StringType, required=True, description="Stream name."),
    th.Property(
        "path",
        th.StringType,
        required=True,
        description="Path of a CSV file whose first row names the columns.",
    ),
    th.Property(
        "keys",
        th.ArrayType(th.StringType),
        description="Columns that identify a record (the stream's key properties).",
    ),
    additional_properties=False,
)


class TapCSV(Tap):
    """Singer tap that reads CSV files with a header row, full table."""

    name = "tap-csv"
    package_name = "dativo-tap-csv"
    dynamic_catalog = True  # streams depend on the configured files, so discovery validates config
    config_jsonschema = th.PropertiesList(
        th.Property(
            "files",
            th.ArrayType(FILE_ENTRY),
            required=True,
            description="The CSV files to read, one stream each.",
        ),
    ).to_dict()

    def discover_streams(self) -> list[CSVStream]:
        """Return one stream per configured file; every unusable entry is reported at once."""
        streams: list[CSVStream] = []
        errors: list[str] = []
        entities = [entry["entity"] for entry in self.config["files"]]
        for name in sorted({name for name in entities if entities.count(name) > 1}):
            errors.append(f"entity {name!r} is configured more than once")
        for index, entry in enumerate(self.config["files"]):
            try:
                streams.append(self._stream(entry))
            except ValueError as exc:
                errors.append(f"files[{index}] (entity {entry['entity']!r}): {exc}")
        if errors:
            raise ConfigValidationError("Invalid `files` setting", errors=errors)
        return streams

    def run_discovery(self) -> str:
        """Write the catalog; unusable files are logged as errors, not as a traceback."""
        try:
            return super().run_discovery()
        except ConfigValidationError as exc:
            for error in exc.errors:
                self.logger.error("Config validation error: %s", error)
            raise click.exceptions.Exit(1) from exc

    def _stream(self, entry: dict[str, t.Any]) -> CSVStream:
        """Build the stream of one `files` entry; ``ValueError`` says what is wrong with it."""
        path, keys = Path(entry["path"]), list(entry.get("keys", []))
        try:
            header = read_header(path)
        except OSError as exc:
            raise ValueError(f"cannot read {path}: {exc.strerror}") from exc
        except csv.Error as exc:
            raise ValueError(f"{path} is not valid CSV: {exc}") from exc
        if missing := [key for key in keys if key not in header]:
            raise ValueError(f"keys {missing} are not columns of {path}, whose header is {header}")
        return CSVStream(self, name=entry["entity"], path=path, header=header, keys=keys)
