"""Fixtures for target-postgres tests: the installed executable, configs for the test's own
schema of the real Postgres, runs as real subprocesses, reading back with psycopg."""

from __future__ import annotations

import subprocess
import typing as t
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from dativo_connector_kit.testing import TargetRunner


class Harness(TargetRunner):
    """Runs the target against the test's schema and reads the database back."""

    def __init__(self, executable: str, dsn: str, schema: str, folder: Path) -> None:
        super().__init__(executable, folder)
        self.dsn = dsn
        self.schema = schema
        self.compact_lines = False  # write messages as taps do, without spaces (compact path)

    def singer(self, *messages: dict[str, t.Any]) -> bytes:
        """Singer messages as JSON lines: ``", "``-separated, or compact as taps write them."""
        return self.compact(*messages) if self.compact_lines else self.encode(*messages)

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

    def base_settings(self) -> dict[str, t.Any]:
        """Connection from the test DSN, schema of the test."""
        params = conninfo_to_dict(self.dsn)
        return {
            "host": params.get("host", "127.0.0.1"),
            "port": int(params.get("port", 5432)),
            "user": params.get("user", "postgres"),
            "password": params.get("password", "unused"),
            "database": params.get("dbname", "postgres"),
            "default_target_schema": self.schema,
        }

    def tagged_config(self, application_name: str, **settings: t.Any) -> Path:
        """A config connecting by ``sqlalchemy_url`` with its own application_name, so the
        test can find its session in pg_stat_activity among any others."""
        params = self.base_settings()
        url = (
            f"postgresql://{params['user']}:{params['password']}@{params['host']}:"
            f"{params['port']}/{params['database']}?application_name={application_name}"
        )
        return self.config("tagged.json", sqlalchemy_url=url, **settings)

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

    def rows(self, stream: str) -> list[dict[str, t.Any]]:
        """Every row of the stream's table (named as the target names it), as JSON values,
        ordered by the first column; none when the table does not exist."""
        table = psycopg.sql.Identifier(stream.rsplit("-", 1)[-1]).as_string()
        if not self.query(f"SELECT to_regclass('{{schema}}.{table}')")[0][0]:
            return []
        return [
            row
            for (row,) in self.query(
                f"SELECT to_jsonb(t) FROM (SELECT * FROM {{schema}}.{table} ORDER BY 1) t"
            )
        ]

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


@pytest.fixture(params=["spaced", "compact"])
def both_encodings(pg: Harness, request: pytest.FixtureRequest) -> None:
    """Runs a test twice: ``pg`` writing messages ``", "``-separated (decoded by the loop),
    then compact as taps write them (taken by target-postgres's compact path)."""
    pg.compact_lines = request.param == "compact"
