"""The tap-rest Tap: settings, and one stream per configured endpoint."""

from __future__ import annotations

import typing as t
from functools import cached_property

from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError

from dativo_connector_kit import ConfigurationError
from tap_rest.emit import BlockWriter, CheckpointWriter
from tap_rest.retry import RateLimiter
from tap_rest.settings import SETTINGS
from tap_rest.spec import Settings, parse_settings
from tap_rest.stream import APIStream


class TapRest(Tap):
    """Singer tap reading JSON records from the endpoints of a REST API."""

    name = "tap-rest"
    package_name = "dativo-tap-rest"
    dynamic_catalog = True  # streams come from the config, so discovery validates it
    config_jsonschema = SETTINGS
    message_writer_class = BlockWriter

    def __init__(self, **kwargs: t.Any) -> None:
        """Load config, catalog and state; an invalid config raises the kit's
        ``ConfigurationError`` (exit 2), whichever command runs."""
        try:
            super().__init__(**kwargs)
        except ConfigValidationError as exc:
            raise ConfigurationError("invalid config: " + "; ".join(exc.errors)) from exc

    @cached_property
    def state_writer(self) -> CheckpointWriter | t.Any:
        """Writes a STATE after each 10,000 records and at each stream's end, changed or not."""
        if isinstance(self.message_writer, BlockWriter):
            return CheckpointWriter(self.message_writer)
        return super().state_writer

    @cached_property
    def settings(self) -> Settings:
        """The config, checked and typed."""
        return parse_settings(self.config)

    def discover_streams(self) -> list[APIStream]:
        """One stream per ``streams`` entry, sharing one rate limiter and one writer."""
        limiter = RateLimiter(self.settings.requests_per_second)
        writer = self.message_writer if isinstance(self.message_writer, BlockWriter) else None
        return [
            APIStream(self, spec, self.settings, limiter=limiter, writer=writer)
            for spec in self.settings.streams
        ]
