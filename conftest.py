"""Fixtures shared by the orchestrator's and the connectors' test suites."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent


def require(condition: bool, reason: str) -> None:
    """Fail under CI, skip loudly elsewhere, when a real component a test needs is missing."""
    if condition:
        return
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"required component missing in CI: {reason}")
    pytest.skip(f"SKIPPED, NOT TESTED: {reason}")


@pytest.fixture(scope="session")
def require_component() -> Callable[[bool, str], None]:
    """``require`` for tests and fixtures (``from conftest import`` is ambiguous: every test
    folder has a conftest module)."""
    return require


@pytest.fixture(scope="session")
def connector_exe():
    """Return the path of an installed connector executable (``make setup`` installs them)."""

    def find(name: str) -> str:
        path = shutil.which(name) or shutil.which(str(REPO_ROOT / ".connectors" / "bin" / name))
        require(path is not None, f"connector {name!r} is not installed; run `make setup`")
        return str(path)

    return find


PG_DSN = os.environ.get(
    "DATIVO_TEST_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
)


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    """DSN of the real Postgres server the tests use (``DATIVO_TEST_PG_DSN`` overrides)."""
    import psycopg

    try:
        with psycopg.connect(PG_DSN, connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        require(False, f"Postgres not reachable at {PG_DSN!r}: {exc}")
    return PG_DSN


@pytest.fixture
def pg_schema(pg_dsn: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh schema for one test, dropped (with everything in it) afterwards."""
    import psycopg

    name = (
        "t_"
        + re.sub(r"[^a-z0-9_]", "_", request.node.name.lower())[:40]
        + "_"
        + os.urandom(3).hex()
    )
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    yield name
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{name}" CASCADE')


PYPI_CONNECTORS = REPO_ROOT / ".connectors" / "pypi"


@pytest.fixture(scope="session")
def pypi_connector() -> Callable[[str, str], str]:
    """Install a community connector from PyPI into its own cached virtual environment
    (``.connectors/pypi/<spec>``) and return the path of its executable.

    ``pypi_connector("target-jsonl==0.1.4", "target-jsonl")``
    """
    from dativo_ingest.install import ConnectorEnv, InstallError

    def install(spec: str, executable: str) -> str:
        env = ConnectorEnv(PYPI_CONNECTORS / re.sub(r"[^A-Za-z0-9_.-]", "_", spec), (spec,))
        try:
            env.ensure()
        except InstallError as exc:
            require(False, str(exc))
        program = env.executable(executable)
        require(program.exists(), f"{spec} has no executable {executable!r}")
        return str(program)

    return install
