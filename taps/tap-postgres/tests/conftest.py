"""Fixtures for tap-postgres tests: the installed tap run as a real program on real Postgres."""

from __future__ import annotations

import json
import os
import subprocess
import typing as t
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

# The machine sets PYTHONDONTWRITEBYTECODE; without cached bytecode every run of the tap
# recompiles the Singer SDK (~0.5 s). Caching it changes nothing else.
RUN_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def parse_messages(stdout: str) -> list[dict[str, t.Any]]:
    """Singer messages, with JSON numbers that have a fraction as exact Decimals."""
    return [json.loads(line, parse_float=Decimal) for line in stdout.splitlines() if line]


class Tap:
    """Runs tap-postgres with a config for the test database, limited to the test schema."""

    parse = staticmethod(parse_messages)
    run_env = RUN_ENV

    def __init__(self, exe: str, config: dict[str, t.Any], folder: Path) -> None:
        self.exe = exe
        self.config = config
        self.folder = folder

    def write(self, name: str, value: object) -> Path:
        path = self.folder / name
        path.write_text(json.dumps(value))
        return path

    def run(
        self,
        *args: str | Path,
        config: dict[str, t.Any] | None = None,
        catalog: dict[str, t.Any] | None = None,
        state: dict[str, t.Any] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        command = [self.exe, "--config", self.write("tap.json", config or self.config)]
        if catalog is not None:
            command += ["--catalog", self.write("catalog.json", catalog)]
        if state is not None:
            command += ["--state", self.write("state.json", state)]
        return subprocess.run(
            [str(part) for part in [*command, *args]],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
            env=self.run_env,
        )

    def sync(self, **kwargs: t.Any) -> list[dict[str, t.Any]]:
        result = self.run(**kwargs)
        assert result.returncode == 0, result.stderr
        return parse_messages(result.stdout)

    def discover(self, **kwargs: t.Any) -> dict[str, t.Any]:
        result = self.run("--discover", **kwargs)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    @staticmethod
    def records(messages: list[dict[str, t.Any]], stream: str | None = None) -> list[dict]:
        return [
            message["record"]
            for message in messages
            if message["type"] == "RECORD" and stream in (None, message["stream"])
        ]

    @staticmethod
    def metadata(
        catalog: dict[str, t.Any], stream: str, field: str | None = None
    ) -> dict[str, t.Any]:
        """The (editable) metadata of a stream, or of one of its fields."""
        breadcrumb = [] if field is None else ["properties", field]
        entry = next(entry for entry in catalog["streams"] if entry["tap_stream_id"] == stream)
        return next(item for item in entry["metadata"] if item["breadcrumb"] == breadcrumb)[
            "metadata"
        ]


@pytest.fixture
def require(request: pytest.FixtureRequest) -> t.Callable[[bool, str], None]:
    """The root conftest's ``require`` (with --import-mode=importlib, conftest modules cannot
    be imported by name)."""
    root = request.config.pluginmanager.get_plugin(str(request.config.rootpath / "conftest.py"))
    return root.require


@pytest.fixture
def pg(pg_dsn: str) -> t.Iterator[psycopg.Connection[t.Any]]:
    """An autocommit connection for setting up test data."""
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        yield conn


@pytest.fixture
def tap(connector_exe, pg_dsn: str, pg_schema: str, tmp_path: Path) -> Tap:
    """The tap, configured for the test database and schema (host/port/user/database keys)."""
    dsn = conninfo_to_dict(pg_dsn)
    config = {
        "host": dsn.get("host", "127.0.0.1"),
        "port": int(dsn.get("port", 5432)),
        "user": dsn.get("user", "postgres"),
        "database": dsn.get("dbname", "postgres"),
        "filter_schemas": [pg_schema],
    }
    if "password" in dsn:
        config["password"] = dsn["password"]
    return Tap(connector_exe("tap-postgres"), config, tmp_path)
