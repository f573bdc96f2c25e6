"""The object a job selects reaches a native extractor, and records of another object cannot
land under it: the issue's SQLite extractor that reads ``config.table`` while the job selects
another table fails before writing, and a selection problem is exit 2 before anything starts."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import yaml

KIT = Path(__file__).resolve().parents[1] / "libs" / "dativo-connector-kit"

EXTRACTOR = '''
import sqlite3
from collections.abc import Iterator
from typing import Any

from dativo_connector_kit.native import IncrementalStateManager, SourceConfig, get_logger

logger = get_logger(__name__)

TYPES = {"INTEGER": "integer", "TEXT": "string", "REAL": "number"}


class SqliteExtractor:
    """Reads the object the job selected."""

    def __init__(
        self, source_config: SourceConfig, state_manager: IncrementalStateManager | None = None
    ) -> None:
        self.source_config = source_config
        self.db = sqlite3.connect(source_config.connection["path"])

    def table(self) -> str:
        return str(self.source_config.object)

    def extract(self) -> Iterator[list[dict[str, Any]]]:
        logger.info("reading table %s", self.table())
        logger.debug("sqlite %s", sqlite3.sqlite_version)
        cursor = self.db.execute(f"SELECT * FROM {self.table()} ORDER BY id")
        names = [c[0] for c in cursor.description]
        yield [dict(zip(names, row)) for row in cursor]

    def check_connection(self) -> dict[str, Any]:
        return {"success": True, "message": "sqlite file opened"}

    def discover(self) -> dict[str, Any]:
        tables = [r[0] for r in self.db.execute("SELECT name FROM sqlite_master ORDER BY name")]
        objects = []
        for table in tables:
            columns = self.db.execute(f"PRAGMA table_info({table})").fetchall()
            properties = {c[1]: {"type": TYPES[c[2]]} for c in columns}
            schema = {"type": "object", "properties": properties}
            objects.append(
                {"name": table, "schema": schema, "key_properties": ["id"], "replication_key": "id"}
            )
        return {"objects": objects}


class TableFromConfigExtractor(SqliteExtractor):
    """The issue's extractor: reads the table named in its config, whatever was selected."""

    def table(self) -> str:
        return str(self.source_config.connection["table"])
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    package = tmp_path / "tap-sqlite-native"
    (package / "sqlite_native").mkdir(parents=True)
    (package / "sqlite_native" / "__init__.py").write_text(EXTRACTOR)
    (package / "pyproject.toml").write_text(f"""
[build-system]
requires = ["hatchling>=1.21"]
build-backend = "hatchling.build"

[project]
name = "tap-sqlite-native"
version = "0.1.0"
dependencies = ["dativo-connector-kit @ {KIT.as_uri()}"]

[tool.hatch.metadata]
allow-direct-references = true

[tool.hatch.build.targets.wheel]
packages = ["sqlite_native"]
""")
    entries = [
        {
            "name": name,
            "variant": "test",
            "type": "source",
            "engine": "native",
            "path": "tap-sqlite-native",
            "entrypoint": f"sqlite_native:{entry}",
            "capabilities": ["catalog", "discover", "state", "test"],
        }
        for name, entry in [
            ("sqlite-native", "SqliteExtractor"),
            ("sqlite-table-from-config", "TableFromConfigExtractor"),
        ]
    ]
    (tmp_path / "registry.yaml").write_text(yaml.safe_dump({"connectors": entries}))
    db = sqlite3.connect(tmp_path / "shop.db")
    db.execute("CREATE TABLE customers (id INTEGER, name TEXT, email TEXT)")
    db.execute("CREATE TABLE products (id INTEGER, title TEXT, price REAL)")
    for i in range(1, 11):
        db.execute("INSERT INTO customers VALUES (?, ?, ?)", (i, f"c{i}", f"c{i}@x.org"))
    for i in range(1, 4):
        db.execute("INSERT INTO products VALUES (?, ?, ?)", (i, f"p{i}", i * 1.5))
    db.commit()
    return tmp_path


def job(project: Path, connector: str, select: list[str] | None, name: str) -> Path:
    source: dict = {
        "connector": connector,
        "config": {"path": str(project / "shop.db"), "table": "customers"},
    }
    if select is not None:
        source["select"] = select
    spec = {
        "tenant_id": "acme",
        "name": name,
        "source": source,
        "target": {
            "connector": "target-jsonl",
            "config": {"destination_path": str(project / name)},
        },
    }
    path = project / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def landed(folder: Path) -> dict[str, list[dict]]:
    return {
        file.stem.split("-")[0]: [json.loads(line) for line in file.read_text().splitlines()]
        for file in folder.glob("*.jsonl")
    }


def test_table_in_config_and_another_selected_cannot_land_wrong_data(project, dativo):
    wrong = dativo("run", job(project, "sqlite-table-from-config", ["products"], "wrong"))
    assert wrong.returncode != 0, wrong.stdout + wrong.stderr
    assert "succeeded" not in wrong.stderr
    assert "(email, name) that object 'products'" in wrong.stderr
    assert not any(rows for rows in landed(project / "wrong").values())
    run = json.loads(dativo("runs", "--json", "--limit", "1").stdout)[0]
    assert run["status"] == "failed"

    right = dativo("run", job(project, "sqlite-native", ["products"], "right"))
    assert right.returncode == 0, right.stderr
    assert landed(project / "right") == {
        "products": [
            {"id": 1, "title": "p1", "price": 1.5},
            {"id": 2, "title": "p2", "price": 3.0},
            {"id": 3, "title": "p3", "price": 4.5},
        ]
    }


@pytest.mark.parametrize(
    ("select", "message"),
    [
        (None, "select one of: customers, products (selected: customers, products)"),
        (["orders"], "'orders' names no stream of the catalog"),
    ],
)
def test_a_selection_problem_is_exit_2_before_anything_starts(project, dativo, select, message):
    result = dativo("run", job(project, "sqlite-native", select, "sel"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert not (project / "sel").exists()  # the target never started


def test_extractor_logs_reach_the_run_log_at_the_level_asked_for(project, dativo):
    path = job(project, "sqlite-native", ["products"], "logged")
    quiet = dativo("run", path)
    assert quiet.returncode == 0, quiet.stderr
    assert "reading table products" not in quiet.stderr  # by default: in the run log only
    logged = dativo("logs", path).stdout
    assert "INFO" in logged and "sqlite_native: reading table products" in logged
    assert "sqlite_native: sqlite " not in logged  # DEBUG was not asked for

    info = dativo("--log-level", "INFO", "run", path)
    assert info.returncode == 0, info.stderr
    assert "sqlite_native: reading table products" in info.stderr
    assert "sqlite_native: sqlite " not in info.stderr

    debug = dativo("--log-level", "DEBUG", "run", path)
    assert debug.returncode == 0, debug.stderr
    assert f"sqlite_native: sqlite {sqlite3.sqlite_version}" in debug.stderr
    assert f"sqlite_native: sqlite {sqlite3.sqlite_version}" in dativo("logs", path).stdout
