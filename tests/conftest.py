"""Fixtures for the orchestrator tests: job files, a private DATIVO_HOME, the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from psycopg.conninfo import conninfo_to_dict

PROGRAMS = Path(__file__).parent / "programs"
FAKE_TAP = str(PROGRAMS / "fake_tap.py")
FAKE_TARGET = str(PROGRAMS / "fake_target.py")
DATIVO = str(Path(sys.executable).with_name("dativo"))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


# where `make setup` installs first-party connectors: tests reuse those environments
SHARED_CONNECTORS = Path(__file__).resolve().parents[1] / ".dativo" / "connectors"


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    """A private DATIVO_HOME per test; installed connectors are shared by all tests."""
    return {**os.environ, "DATIVO_HOME": str(home), "DATIVO_CONNECTORS_DIR": str(SHARED_CONNECTORS)}


@pytest.fixture
def write_job(tmp_path: Path) -> Callable[..., Path]:
    """Write a job file piping the fake tap into the fake target, with their configs."""

    def write(
        source: dict[str, Any] | None = None,
        target: dict[str, Any] | None = None,
        name: str = "job",
        **overrides: Any,
    ) -> Path:
        job = {
            "tenant_id": "acme",
            "name": name,
            "source": {"executable": FAKE_TAP, "config": source or {}},
            "target": {"executable": FAKE_TARGET, "config": target or {}},
            **overrides,
        }
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(job))
        return path

    return write


@pytest.fixture
def dativo(env: dict[str, str], tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real ``dativo`` command with the test's DATIVO_HOME, in ``tmp_path``."""

    def run(
        *args: str | Path, timeout: float = 60, **kwargs: Any
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [DATIVO, *map(str, args)],
            env=kwargs.pop("env", env),
            cwd=kwargs.pop("cwd", tmp_path),
            capture_output=True,
            text=True,
            timeout=timeout,
            **kwargs,
        )

    return run


def server_settings(dsn: str) -> dict:
    """host, port, user, password and database of a libpq DSN, as the connectors name them."""
    params = conninfo_to_dict(dsn)
    settings = {
        "host": params.get("host", "127.0.0.1"),
        "port": int(params.get("port", 5432)),
        "user": params.get("user", "postgres"),
        "database": params.get("dbname", "postgres"),
    }
    return {**settings, **({"password": params["password"]} if "password" in params else {})}


@pytest.fixture(scope="session")
def pg_state_database(pg_dsn: str) -> Iterator[str]:
    """A database of its own on the test server for Postgres state stores; its URL."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    name = f"dativo_state_{os.getpid()}_{os.urandom(3).hex()}"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    params = conninfo_to_dict(pg_dsn)
    user = params.get("user", "postgres")
    yield f"postgresql://{user}@{params.get('host', '127.0.0.1')}:{params.get('port', 5432)}/{name}"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def pg_state_url(pg_state_database: str) -> str:
    """A Postgres state store URL whose tables live in a fresh schema of the test database."""
    import psycopg

    schema = f"s_{os.urandom(4).hex()}"
    with psycopg.connect(pg_state_database, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{pg_state_database}?options=-csearch_path%3D{schema}"
