"""Reaching the database: libpq parameters from the tap config, sessions, and error mapping.

Every psycopg error leaves this module as one of the kit's errors, so the exit code tells an
orchestrator what to do: fix the config (2), retry (3, 5) or fix the credentials (4).
"""

from __future__ import annotations

import typing as t
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

import psycopg

from dativo_connector_kit import (
    AuthenticationError,
    ConfigurationError,
    ConnectionError,
    ConnectorError,
    TransientError,
)

APPLICATION_NAME = "tap-postgres"
CONNECT_TIMEOUT_SECONDS = "10"
URL_SCHEMES = frozenset({"postgres", "postgresql"})

# Rendering that does not depend on the server's or the role's defaults: timestamps with time
# zone in UTC (ISO 8601, "+00:00"), ISO 8601 intervals, shortest exact floats. A slow target
# keeps the session idle inside its transaction between fetches: no idle timeout may end it.
SESSION_SETUP = (
    "SET TimeZone TO 'UTC'; SET DateStyle TO 'ISO'; SET IntervalStyle TO 'iso_8601'; "
    "SET extra_float_digits TO 1; SET idle_in_transaction_session_timeout TO 0"
)

# libpq reports login failures as text only (no SQLSTATE reaches the client).
_AUTH_FAILURES = (
    "password authentication failed",
    "authentication failed",
    "no password supplied",
    "no pg_hba.conf entry",
    "is not permitted to log in",
    "permission denied for database",
)
_TRANSIENT_CLASSES = frozenset({"40", "53", "55", "57", "58"})  # conflicts, resources, shutdown
# The server ended the session (terminated, crashed, starting up): as if the connection broke.
_DISCONNECTED = frozenset({"57P01", "57P02", "57P03"})


@dataclass(frozen=True)
class ConnectionSettings:
    """libpq connection parameters (keyword -> value), validated once."""

    params: Mapping[str, str]

    @classmethod
    def from_config(cls, config: Mapping[str, t.Any]) -> ConnectionSettings:
        """From ``sqlalchemy_url`` if set, else from host, port, user, password, database."""
        if url := config.get("sqlalchemy_url"):
            params = _params_from_url(url)
        else:
            missing = [key for key in ("host", "user") if not config.get(key)]
            if missing:
                raise ConfigurationError(
                    f"missing setting(s) {', '.join(missing)}: set host and user "
                    "(with port, password, database as needed) or sqlalchemy_url"
                )
            params = {"host": str(config["host"]), "port": str(config.get("port") or 5432)}
            params["user"] = str(config["user"])
            if config.get("password") is not None:
                params["password"] = str(config["password"])
            if config.get("database"):
                params["dbname"] = str(config["database"])
        params.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
        params.setdefault("application_name", APPLICATION_NAME)
        params["client_encoding"] = "UTF8"
        return cls(params)

    @property
    def where(self) -> str:
        """``user@host:port/database`` for messages (never the password)."""
        params = self.params
        user = params.get("user", "")
        database = params.get("dbname", user)
        return f"{user}@{params.get('host', 'localhost')}:{params.get('port', 5432)}/{database}"


def _params_from_url(url: str) -> dict[str, str]:
    """libpq parameters of ``postgresql[+driver]://user:password@host:port/database?key=value``."""
    parts = urlsplit(url)
    if parts.scheme.split("+", 1)[0] not in URL_SCHEMES:
        raise ConfigurationError(
            f"sqlalchemy_url must start with postgresql:// (or postgresql+driver://), "
            f"not {parts.scheme}://"
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigurationError(f"sqlalchemy_url has an invalid port: {exc}") from exc
    params = dict(parse_qsl(parts.query))
    given = {
        "host": unquote(parts.hostname or ""),
        "port": str(port or ""),
        "user": unquote(parts.username or ""),
        "password": None if parts.password is None else unquote(parts.password),
        "dbname": unquote(parts.path.lstrip("/")),
    }
    params.update({key: value for key, value in given.items() if value})
    return params


def connect(settings: ConnectionSettings) -> psycopg.Connection[t.Any]:
    """Open a session with fixed rendering settings, in read-only transactions."""
    try:
        conn = psycopg.connect(**settings.params, autocommit=True)
    except psycopg.Error as exc:
        raise login_error(exc, settings.where) from exc
    with database_errors(f"setting up the session on {settings.where}"):
        conn.execute(SESSION_SETUP)
        conn.autocommit = False
        conn.read_only = True
    return conn


def login_error(exc: psycopg.Error, where: str) -> ConnectorError:
    """The kit error for a failed login, told apart by libpq's message."""
    message = " ".join(str(exc).split())
    lowered = message.lower()
    text = f"cannot connect to {where}: {message}"
    if any(marker in lowered for marker in _AUTH_FAILURES) or (
        'role "' in lowered and "does not exist" in lowered
    ):
        return AuthenticationError(text)
    if isinstance(exc, psycopg.ProgrammingError) or (
        'database "' in lowered and "does not exist" in lowered
    ):
        return ConfigurationError(text)
    return ConnectionError(text)


def query_error(exc: psycopg.Error, action: str) -> ConnectorError:
    """The kit error for a failure after login, by SQLSTATE class."""
    message = f"{action} failed: {' '.join(str(exc).split())}"
    sqlstate = exc.sqlstate or ""
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return AuthenticationError(message)
    if sqlstate in _DISCONNECTED or (not sqlstate and isinstance(exc, psycopg.OperationalError)):
        return ConnectionError(message)
    if sqlstate[:2] in _TRANSIENT_CLASSES:
        return TransientError(message)
    if sqlstate[:2] in {"22", "42"}:  # bad value or name: the catalog or state does not fit
        return ConfigurationError(message)
    return ConnectorError(message)


@contextmanager
def database_errors(action: str) -> Iterator[None]:
    """Turn psycopg errors raised inside the block into the kit's errors."""
    try:
        yield
    except psycopg.Error as exc:
        raise query_error(exc, action) from exc
