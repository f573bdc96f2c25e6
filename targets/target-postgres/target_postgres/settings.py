"""Settings: their JSON schema (shown by ``--about``), loading, merging and validation.

The connection and loading keys are those of meltanolabs-target-postgres, so a config written
for it works here unchanged (see README for the few it has and this target refuses).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from pathlib import Path

from dativo_connector_kit.settings import fail_if_invalid, problems, read_config, with_defaults
from dativo_connector_kit.target.policy import BatchPolicy, settings_schema
from target_postgres.conninfo import SSL_MODES, libpq_params

if t.TYPE_CHECKING:
    from collections.abc import Iterable


def _setting(kind: str, description: str, **extra: t.Any) -> dict[str, t.Any]:
    return {"type": kind, "description": description, **extra}


SCHEMA = settings_schema(
    {
        "host": _setting("string", "Postgres host name or socket folder (libpq default)."),
        "port": _setting("integer", "Postgres port.", default=5432, minimum=1),
        "user": _setting("string", "User name (libpq default: the OS user, or PGUSER)."),
        "password": _setting("string", "Password (libpq default: PGPASSWORD or ~/.pgpass)."),
        "database": _setting("string", "Database name (libpq default: the user name)."),
        "sqlalchemy_url": _setting(
            "string",
            "Connection URL `postgresql://user:password@host:port/database?sslmode=...` "
            "(also `postgres://`, `postgresql+psycopg://`, `postgresql+psycopg2://`); "
            "overrides host, port, user, password, database and the ssl_* settings.",
        ),
        "default_target_schema": _setting(
            "string",
            "Schema receiving every stream's table, created if missing. Empty: the schema "
            "part of a `<schema>-<table>` stream name, else `public`.",
            default="melty",
        ),
        "validate_records": _setting(
            "boolean",
            "Check every record against its SCHEMA (types, date/time formats) and fail on "
            "the first that does not fit, naming stream, key and field.",
            default=False,
        ),
        "add_record_metadata": _setting(
            "boolean",
            "Add the `_sdc_*` metadata columns (extracted/received/batched/deleted time, "
            "sequence, table version, sync start) to every table. ACTIVATE_VERSION needs them.",
            default=True,
        ),
        "load_method": _setting(
            "string",
            "`append-only` or `upsert`: upsert on the key properties, append without them "
            "(as meltanolabs-target-postgres does with either); `overwrite`: replace each "
            "table by what this run loads into it (dropped and created in the first batch).",
            default="append-only",
            enum=["append-only", "upsert", "overwrite"],
        ),
        "activate_version": _setting(
            "boolean",
            "Act on ACTIVATE_VERSION messages (full-table replace); false ignores them.",
            default=True,
        ),
        "process_activate_version_messages": _setting(
            "boolean",
            "The Singer SDK's name for activate_version; both must be true.",
            default=True,
        ),
        "hard_delete": _setting(
            "boolean",
            "On ACTIVATE_VERSION, delete rows of older versions instead of setting their "
            "`_sdc_deleted_at`.",
            default=False,
        ),
        "sanitize_null_text_characters": _setting(
            "boolean",
            "Replace the NUL character (\\u0000), which Postgres text cannot hold, by U+FFFD; "
            "false fails on it, naming the input line.",
            default=False,
        ),
        "ssl_enable": _setting(
            "boolean", "Verify the server with TLS per ssl_mode (libpq sslmode).", default=False
        ),
        "ssl_mode": _setting(
            "string",
            "libpq sslmode used when ssl_enable is true.",
            default="verify-full",
            enum=list(SSL_MODES),
        ),
        "ssl_certificate_authority": _setting(
            "string", "Path of the CA certificate (libpq sslrootcert) when ssl_enable is true."
        ),
        "ssl_client_certificate_enable": _setting(
            "boolean", "Authenticate with a client certificate.", default=False
        ),
        "ssl_client_certificate": _setting(
            "string", "Path of the client certificate (libpq sslcert)."
        ),
        "ssl_client_private_key": _setting("string", "Path of its private key (libpq sslkey)."),
        "use_copy": _setting(
            "boolean", "Accepted for compatibility and ignored: loads always use COPY."
        ),
        "dialect+driver": _setting(
            "string", "Accepted for compatibility and ignored: the driver is psycopg 3."
        ),
        "ssl_storage_directory": _setting(
            "string", "Accepted for compatibility and ignored (certificates are file paths)."
        ),
        "interpret_content_encoding": _setting(
            "boolean", "Accepted for compatibility when false; true is not supported."
        ),
        "ssh_tunnel": _setting(
            "object",
            "Accepted for compatibility when `enable` is false or absent; SSH tunnels are not "
            "supported (open one yourself and point host and port at it).",
        ),
    }
)


@dataclass(frozen=True)
class Settings:
    """Validated, read-only configuration."""

    connection: dict[str, str]  # libpq keywords
    default_target_schema: str
    batch: BatchPolicy
    validate_records: bool
    add_record_metadata: bool
    activate_version: bool  # and process_activate_version_messages
    hard_delete: bool
    overwrite: bool
    sanitize_null_text_characters: bool


def load_settings(paths: Iterable[Path]) -> Settings:
    """Read the config files, merge them in order (later keys win) and validate the result."""
    return validate(read_config(paths))


def validate(config: dict[str, t.Any]) -> Settings:
    """Return typed settings, or raise ``ConfigurationError`` listing every problem by key."""
    known = SCHEMA["properties"]
    # null means unset; unknown keys stay, to be reported
    config = {key: value for key, value in config.items() if value is not None or key not in known}
    errors = problems(config, SCHEMA)
    if config.get("interpret_content_encoding"):
        errors.append("setting 'interpret_content_encoding' true is not supported")
    if isinstance(tunnel := config.get("ssh_tunnel"), dict) and tunnel.get("enable"):
        errors.append("setting 'ssh_tunnel' with enable true is not supported")
    connection: dict[str, str] = {}
    if not errors:
        try:
            connection = libpq_params(config)
        except ValueError as exc:
            errors.append(str(exc))
    fail_if_invalid(errors, SCHEMA)
    values = with_defaults(config, SCHEMA)
    return Settings(
        connection=connection,
        default_target_schema=values["default_target_schema"],
        batch=BatchPolicy.from_settings(values),
        validate_records=values["validate_records"],
        add_record_metadata=values["add_record_metadata"],
        activate_version=values["activate_version"] and values["process_activate_version_messages"],
        hard_delete=values["hard_delete"],
        overwrite=values["load_method"] == "overwrite",
        sanitize_null_text_characters=values["sanitize_null_text_characters"],
    )
