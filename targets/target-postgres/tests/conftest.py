"""Fixtures for target-postgres tests: the installed executable, configs for the test's own
schema of the real Postgres, runs as real subprocesses, reading back with psycopg."""

from __future__ import annotations

import json
import subprocess
import typing as t
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict


@dataclass
class Harness:
    """Runs the target against the test's schema and reads the database back."""

    executable: str
    dsn: str
    schema: str
    folder: Path

    @staticmethod
    def singer(*messages: dict) -> bytes:
        """Singer messages as JSON lines."""
        return b"".join(json.dumps(message).encode() + b"\n" for message in messages)

    @staticmethod
    def schema_message(stream: str, properties: dict, keys: list[str] | None = None) -> dict:
        return {
            "type": "SCHEMA",
            "stream": stream,
            "schema": {"type": "object", "properties": properties},
            "key_properties": ["id"] if keys is None else keys,
        }

    @staticmethod
    def record(stream: str, **values: t.Any) -> dict:
        return {"type": "RECORD", "stream": stream, "record": values}

    @staticmethod
    def state(position: int) -> dict:
        return {"type": "STATE", "value": {"bookmarks": {"s": {"position": position}}}}

    @staticmethod
    def echoed(result: subprocess.CompletedProcess[bytes]) -> list[t.Any]:
        """The states a run echoed on stdout."""
        return [json.loads(line) for line in result.stdout.splitlines()]

    def config(self, name: str = "target.json", **settings: t.Any) -> Path:
        """Write a config file: connection from the test DSN, schema of the test, ``settings``."""
        params = conninfo_to_dict(self.dsn)
        base = {
            "host": params.get("host", "127.0.0.1"),
            "port": int(params.get("port", 5432)),
            "user": params.get("user", "postgres"),
            "password": params.get("password", "unused"),
            "database": params.get("dbname", "postgres"),
            "default_target_schema": self.schema,
        }
        path = self.folder / name
        path.write_text(json.dumps({**base, **settings}))
        return path

    def tagged_config(self, application_name: str, **settings: t.Any) -> Path:
        """A config connecting by ``sqlalchemy_url`` with its own application_name, so the
        test can find its session in pg_stat_activity among any others."""
        params = json.loads(self.config().read_text())
        url = (
            f"postgresql://{params['user']}:{params['password']}@{params['host']}:"
            f"{params['port']}/{params['database']}?application_name={application_name}"
        )
        return self.config("tagged.json", sqlalchemy_url=url, **settings)

    def run(
        self, stdin: bytes, *args: str, config: Path | None = None, **settings: t.Any
    ) -> subprocess.CompletedProcess[bytes]:
        """Run the target once on ``stdin`` (config from ``settings`` unless given)."""
        config = config or self.config(**settings)
        return subprocess.run(
            [self.executable, "--config", str(config), *args],
            input=stdin,
            capture_output=True,
            timeout=60,
            check=False,
        )

    def load(self, stdin: bytes, **settings: t.Any) -> subprocess.CompletedProcess[bytes]:
        """Run the target and require success."""
        result = self.run(stdin, **settings)
        assert result.returncode == 0, result.stderr.decode()
        return result

    def query(self, statement: str, params: t.Sequence[t.Any] = ()) -> list[tuple[t.Any, ...]]:
        """Rows of a query, with ``{schema}`` standing for the test's quoted schema."""
        with psycopg.connect(self.dsn, autocommit=True) as connection:
            quoted = psycopg.sql.Identifier(self.schema).as_string(connection)
            cursor = connection.execute(statement.replace("{schema}", quoted), params)
            return cursor.fetchall() if cursor.description else []

    def column_types(self, table: str) -> dict[str, str]:
        rows = self.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (self.schema, table),
        )
        return dict(rows)


@pytest.fixture
def pg(connector_exe, pg_dsn: str, pg_schema: str, tmp_path: Path) -> Harness:
    return Harness(connector_exe("target-postgres"), pg_dsn, pg_schema, tmp_path)
