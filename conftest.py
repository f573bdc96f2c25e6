"""Fixtures shared by the orchestrator's and the connectors' test suites."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
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


# The one setting naming the Postgres server every test uses (each test makes its own schema
# or database there, and never changes the server's roles or authentication).
PG_DSN = os.environ.get(
    "DATIVO_TEST_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
)


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    """DSN of the real Postgres server the tests use (``DATIVO_TEST_PG_DSN``)."""
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


PRIVATE_PG_PASSWORD = "private-pg-test-pw"


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[dict[str, str | int]]:
    """A Postgres instance of the tests' own, for what the shared server must not be used
    for (checking passwords): ``initdb`` + ``pg_ctl`` on a free port under a temporary
    folder, scram-sha-256 for every connection, stopped and removed after the session.
    Yields the connection settings (host, port, user, password, database)."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    require(initdb is not None and pg_ctl is not None, "initdb/pg_ctl (Postgres server binaries)")
    folder = Path(tempfile.mkdtemp(prefix="dativo-private-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root: run it as `postgres`
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    password_file = folder / "pw"
    password_file.write_text(PRIVATE_PG_PASSWORD)
    if as_user:
        os.chown(password_file, owner.pw_uid, owner.pw_gid)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = folder / "data"
    run = [*as_user, initdb, "-D", str(data), "-U", "postgres", "--auth=scram-sha-256"]
    subprocess.run([*run, f"--pwfile={password_file}", "--no-sync"], check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    started = subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w",
         "-t", "60", "start"],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    try:
        assert started.returncode == 0, started.stderr + (folder / "log").read_text()
        yield {"host": "127.0.0.1", "port": port, "user": "postgres",
               "password": PRIVATE_PG_PASSWORD, "database": "postgres"}  # fmt: skip
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)
