"""The tap-postgres Tap: settings, discovery, one stream per readable table or view."""

from __future__ import annotations

import typing as t
from functools import cached_property

from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers.capabilities import PluginCapabilities, TapCapabilities

from dativo_connector_kit import ConfigurationError
from tap_postgres.catalog import discover
from tap_postgres.connection import ConnectionSettings, connect, database_errors
from tap_postgres.stream import PostgresStream

SETTINGS = th.PropertiesList(
    th.Property("host", th.StringType, description="Server host name or address."),
    th.Property("port", th.IntegerType, default=5432, description="Server port."),
    th.Property("user", th.StringType, description="Role to log in as."),
    th.Property(
        "password",
        th.StringType,
        secret=True,
        description="Password of `user`; omit it for trust, peer or .pgpass authentication.",
    ),
    th.Property("database", th.StringType, description="Database to read; default: the user name."),
    th.Property(
        "sqlalchemy_url",
        th.StringType,
        secret=True,
        description=(
            "Instead of the five settings above: postgresql://user:password@host:port/database"
            "?sslmode=require (any driver suffix such as +psycopg2 is ignored; query "
            "parameters are passed to libpq)."
        ),
    ),
    th.Property(
        "filter_schemas",
        th.ArrayType(th.StringType),
        description="Discover only these schemas; default: every schema the user may read.",
    ),
    th.Property(
        "emit_activate_version_messages",
        th.BooleanType,
        default=True,
        description=(
            "Write ACTIVATE_VERSION before and after each FULL_TABLE stream (version: start "
            "time in epoch milliseconds) and tag its records with that version."
        ),
    ),
).to_dict()

# Settings of the Singer SDK or of meltanolabs-tap-postgres that this tap does not implement.
# Ignoring them would change what is read or how (unencrypted instead of TLS), so they fail.
UNSUPPORTED = {
    "stream_maps": "use a mapper between tap and target",
    "flattening_enabled": "use a mapper between tap and target",
    "batch_config": "BATCH messages are not written",
    "ssl_enable": "use sqlalchemy_url with ?sslmode=...&sslrootcert=...",
    "ssl_client_certificate_enable": "use sqlalchemy_url with ?sslcert=...&sslkey=...",
    "ssh_tunnel": "open the tunnel outside the tap",
    "stream_options": "custom WHERE clauses are not supported; use a view",
    "max_record_count": "streams are read whole; use a view with LIMIT",
}


class TapPostgres(Tap):
    """Singer tap for PostgreSQL tables and views."""

    name = "tap-postgres"
    package_name = "dativo-tap-postgres"
    dynamic_catalog = True
    capabilities: t.ClassVar = [
        TapCapabilities.CATALOG,
        TapCapabilities.STATE,
        TapCapabilities.DISCOVER,
        TapCapabilities.ACTIVATE_VERSION,
        PluginCapabilities.ABOUT,
        PluginCapabilities.STRUCTURED_LOGGING,
    ]
    config_jsonschema = SETTINGS

    def __init__(self, **kwargs: t.Any) -> None:
        """Validate the config; its errors exit 2 (ConfigurationError), not 1."""
        try:
            super().__init__(**kwargs)
        except ConfigValidationError as exc:
            raise ConfigurationError(f"invalid config: {'; '.join(exc.errors)}") from exc

    @cached_property
    def connection_settings(self) -> ConnectionSettings:
        """Connection parameters; unsupported settings fail here, before any work."""
        used = {key: hint for key, hint in UNSUPPORTED.items() if _enabled(self.config.get(key))}
        if used:
            details = "; ".join(f"{key}: {hint}" for key, hint in used.items())
            raise ConfigurationError(f"unsupported setting(s): {details}")
        return ConnectionSettings.from_config(self.config)

    def discover_streams(self) -> list[PostgresStream]:
        """One stream per readable table or view (in ``filter_schemas`` if set)."""
        settings = self.connection_settings
        with connect(settings) as conn, database_errors(f"discovery on {settings.where}"):
            tables = discover(conn, self.config.get("filter_schemas"))
        streams = [PostgresStream(self, table, settings) for table in tables]
        self._check_catalog({stream.tap_stream_id for stream in streams})
        return streams

    def _check_catalog(self, found: set[str]) -> None:
        """A selected stream of ``--catalog`` that the database lacks fails the run."""
        if self.input_catalog is None:
            return
        missing = sorted(
            entry.tap_stream_id
            for entry in self.input_catalog.streams
            if entry.tap_stream_id not in found and entry.metadata.resolve_selection()[()]
        )
        if missing:
            raise ConfigurationError(
                f"selected catalog streams not found (or not readable) in the database: "
                f"{missing}; check filter_schemas and privileges, or discover again"
            )


def _enabled(value: t.Any) -> bool:
    """Whether a setting is in use: truthy, and for ``{"enable": ...}`` objects, enabled."""
    if isinstance(value, dict) and "enable" in value:
        return bool(value["enable"])
    return bool(value)
