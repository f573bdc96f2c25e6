"""The tap-csv Tap: settings, one stream per `files` entry, errors as connector errors."""

from __future__ import annotations

import typing as t

from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError

from dativo_connector_kit import ConfigurationError
from tap_csv.files import list_files
from tap_csv.layout import discover_layout
from tap_csv.output import BlockWriter
from tap_csv.settings import CONFIG_SCHEMA, parse_files
from tap_csv.streams import CSVStream

if t.TYPE_CHECKING:
    import click


class TapCSV(Tap):
    """Singer tap reading CSV files: typed columns, incremental by column or file time."""

    name = "tap-csv"
    package_name = "dativo-tap-csv"
    dynamic_catalog = True  # streams depend on the configured files, so discovery validates config
    config_jsonschema = CONFIG_SCHEMA
    message_writer_class = BlockWriter

    def discover_streams(self) -> list[CSVStream]:
        """One stream per entry; ``ConfigurationError`` lists every unusable entry at once."""
        streams: list[CSVStream] = []
        errors: list[str] = []
        for index, spec in enumerate(parse_files(self.config["files"])):
            try:
                layout = discover_layout(spec, list_files(spec))
            except ConfigurationError as exc:
                errors.append(f"files[{index}] (entity {spec.entity!r}): {exc}")
                continue
            streams.append(CSVStream(self, spec=spec, layout=layout))
        if errors:
            raise ConfigurationError("unusable `files` entries:\n  " + "\n  ".join(errors))
        return streams

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """The SDK's JSON-schema check, failing with ConfigurationError (exit 2)."""
        try:
            return super()._validate_config(raise_errors=raise_errors)
        except ConfigValidationError as exc:
            raise ConfigurationError("invalid config:\n  " + "\n  ".join(exc.errors)) from None

    @classmethod
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> t.Any:
        """Read the --config files; an unreadable one is a ConfigurationError (exit 2)."""
        try:
            return super().cb_config(ctx, param, value)
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read the config: {exc}") from None
