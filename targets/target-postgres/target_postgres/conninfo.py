"""Connection settings to libpq keywords: from ``sqlalchemy_url`` or the separate settings."""

from __future__ import annotations

import typing as t
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
URL_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2")
_KEYWORDS = {"host": "host", "port": "port", "user": "user", "password": "password"}
_KEYWORDS["database"] = "dbname"
_CLIENT_CERTIFICATE = {"ssl_client_certificate": "sslcert", "ssl_client_private_key": "sslkey"}


def libpq_params(config: dict[str, t.Any]) -> dict[str, str]:
    """libpq connection keywords from ``sqlalchemy_url`` or the separate settings."""
    if "sqlalchemy_url" in config:
        return parse_url(config["sqlalchemy_url"])
    params = {libpq: str(config[key]) for key, libpq in _KEYWORDS.items() if key in config}
    params.setdefault("port", "5432")
    if config.get("ssl_enable"):
        params["sslmode"] = config.get("ssl_mode", "verify-full")
        if "ssl_certificate_authority" in config:
            params["sslrootcert"] = str(Path(config["ssl_certificate_authority"]).expanduser())
    if config.get("ssl_client_certificate_enable"):
        for key, libpq in _CLIENT_CERTIFICATE.items():
            if key in config:
                params[libpq] = str(Path(config[key]).expanduser())
    return params


def parse_url(url: str) -> dict[str, str]:
    """Turn ``postgresql[+driver]://user:password@host:port/database?key=value`` into libpq
    keywords. User and password are percent-decoded, as SQLAlchemy expects them encoded."""
    parts = urlsplit(url)
    if parts.scheme not in URL_SCHEMES:
        raise ValueError(
            f"setting 'sqlalchemy_url' must start with one of "
            f"{', '.join(scheme + '://' for scheme in URL_SCHEMES)}"
        )
    try:
        port = parts.port
    except ValueError:
        raise ValueError("setting 'sqlalchemy_url' has an invalid port") from None
    params = {
        "host": parts.hostname and unquote(parts.hostname),
        "port": str(port) if port else None,
        "user": parts.username and unquote(parts.username),
        "password": parts.password and unquote(parts.password),
        "dbname": unquote(parts.path.lstrip("/")) or None,
    }
    connection = {key: value for key, value in params.items() if value}
    connection.update(parse_qsl(parts.query))
    return connection
