"""The command line: --about, --version, --input, config files, validation, connection errors."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

SETTINGS = {
    "host",
    "port",
    "user",
    "password",
    "database",
    "sqlalchemy_url",
    "default_target_schema",
    "batch_size_rows",
    "batch_size_bytes",
    "max_batch_age_seconds",
    "validate_records",
    "add_record_metadata",
    "activate_version",
    "hard_delete",
    "sanitize_null_text_characters",
    "ssl_enable",
    "ssl_mode",
    "ssl_certificate_authority",
    "ssl_client_certificate_enable",
    "ssl_client_certificate",
    "ssl_client_private_key",
    "use_copy",
    "dialect+driver",
    "load_method",
    "process_activate_version_messages",
    "ssl_storage_directory",
    "interpret_content_encoding",
    "ssh_tunnel",
}
# What Meltano passes for meltanolabs-target-postgres when the user set only the connection:
# the defaults of its Meltano Hub definition.
MELTANO_HUB_DEFAULTS = {
    "activate_version": True,
    "add_record_metadata": True,
    "dialect+driver": "postgresql+psycopg",
    "hard_delete": False,
    "interpret_content_encoding": False,
    "load_method": "append-only",
    "process_activate_version_messages": True,
    "sanitize_null_text_characters": False,
    "ssh_tunnel": {"enable": False, "port": 22},
    "ssl_certificate_authority": "~/.postgresql/root.crl",
    "ssl_client_certificate": "~/.postgresql/postgresql.crt",
    "ssl_client_certificate_enable": False,
    "ssl_client_private_key": "~/.postgresql/postgresql.key",
    "ssl_enable": False,
    "ssl_mode": "verify-full",
    "ssl_storage_directory": ".secrets",
    "use_copy": False,
    "validate_records": True,
}


def run_bare(pg, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([pg.executable, *args], capture_output=True, timeout=60, check=False)


def test_about_json_lists_every_setting(pg):
    result = run_bare(pg, "--about", "--format", "json")
    assert result.returncode == 0
    about = json.loads(result.stdout)
    assert about["name"] == "target-postgres"
    assert "activate-version" in about["capabilities"]
    assert set(about["settings"]["properties"]) == SETTINGS


def test_about_markdown_and_version(pg):
    markdown = run_bare(pg, "--about").stdout.decode()
    assert all(f"`{name}`" in markdown for name in SETTINGS)
    assert run_bare(pg, "--version").stdout.startswith(b"target-postgres ")


def test_the_run_path_imports_neither_singer_sdk_nor_sqlalchemy(pg):
    python = Path(pg.executable).resolve().parent / "python"  # the connector's own venv
    modules = "target_postgres.cli, target_postgres.loader, target_postgres.target"
    probe = f"import sys, {modules}; print(sorted({{m.split('.')[0] for m in sys.modules}}))"
    result = subprocess.run([str(python), "-c", probe], capture_output=True, check=True, timeout=60)
    loaded = set(json.loads(result.stdout.decode().replace("'", '"')))
    assert {"psycopg", "orjson"} <= loaded
    assert not loaded & {"singer_sdk", "sqlalchemy", "jsonschema", "pydantic"}


def test_start_up_is_quick(pg):
    started = time.perf_counter()
    run_bare(pg, "--about")
    about_seconds = time.perf_counter() - started
    started = time.perf_counter()
    pg.load(b"")
    empty_seconds = time.perf_counter() - started
    # Generous bounds for a loaded machine; the README quotes measured figures.
    assert about_seconds < 2 and empty_seconds < 3, (about_seconds, empty_seconds)


def test_unknown_and_mistyped_settings_are_named_with_exit_2(pg):
    result = pg.run(
        b"", batch_size=5, batch_size_rows="10", hard_delete="yes", ssl_mode="sometimes"
    )
    pg.assert_failed(
        result,
        2,
        "unknown setting 'batch_size'",
        "'batch_size_rows' must be of type integer",
        "'hard_delete' must be of type boolean",
        "'ssl_mode' must be one of",
    )


def test_a_config_meltano_writes_for_meltanolabs_works_unchanged(pg):
    stream = pg.singer(
        pg.schema_message("users", {"id": {"type": "integer"}}), pg.record("users", id=1)
    )
    pg.load(stream, **MELTANO_HUB_DEFAULTS)
    assert pg.query("SELECT id FROM {schema}.users") == [(1,)]


@pytest.mark.parametrize(
    ("setting", "value"), [("interpret_content_encoding", True), ("ssh_tunnel", {"enable": True})]
)
def test_meltanolabs_features_not_supported_are_refused_by_name(pg, setting, value):
    result = pg.run(b"", **{setting: value})
    assert result.returncode == 2
    assert f"setting '{setting}'".encode() in result.stderr and b"not supported" in result.stderr


def test_config_files_merge_in_order_and_input_can_be_a_file(pg, tmp_path):
    first = pg.config("a.json", default_target_schema="not_this_one", add_record_metadata=False)
    second = tmp_path / "b.json"
    second.write_text(json.dumps({"default_target_schema": pg.schema}))
    messages = tmp_path / "messages.singer"
    messages.write_bytes(
        pg.singer(pg.schema_message("users", {"id": {"type": "integer"}}), pg.record("users", id=1))
    )
    result = pg.run(b"", "--config", str(second), "--input", str(messages), config=first)
    assert result.returncode == 0, result.stderr
    assert pg.column_types("users") == {"id": "bigint"}


@pytest.mark.parametrize("scheme", ["postgresql", "postgresql+psycopg2"])
def test_sqlalchemy_url_replaces_the_connection_settings(pg, scheme):
    params = json.loads(pg.config().read_text())
    url = (
        f"{scheme}://{params['user']}:p%40ss@{params['host']}:{params['port']}/{params['database']}"
    )
    config = pg.folder / "url.json"
    # Wrong separate settings: the URL must win over them.
    config.write_text(
        json.dumps(
            {"sqlalchemy_url": url, "host": "nowhere.invalid", "default_target_schema": pg.schema}
        )
    )
    stream = pg.singer(
        pg.schema_message("users", {"id": {"type": "integer"}}), pg.record("users", id=1)
    )
    result = pg.run(stream, config=config)
    assert result.returncode == 0, result.stderr
    assert pg.query("SELECT id FROM {schema}.users") == [(1,)]


def test_a_bad_url_is_a_configuration_error(pg):
    result = pg.run(b"", sqlalchemy_url="mysql://user@host/db")
    assert result.returncode == 2
    assert b"'sqlalchemy_url' must start with one of" in result.stderr


def test_an_unreachable_server_exits_3_naming_it(pg):
    result = pg.run(b"", host="127.0.0.1", port=1)
    pg.assert_failed(result, 3, "cannot connect to Postgres at 127.0.0.1:1")


def test_a_missing_database_is_a_configuration_error(pg):
    pg.assert_failed(pg.run(b"", database="no_such_database_here"), 2, "no_such_database_here")


@pytest.mark.parametrize(
    ("settings", "exit_code", "reason"),
    [
        ({"host": "127.0.0.1", "port": 1}, 3, "cannot connect to Postgres at 127.0.0.1:1"),
        ({"database": "no_such_database_here"}, 2, "no_such_database_here"),
    ],
)
def test_test_mode_fails_with_the_kit_exit_codes(pg, settings: dict, exit_code: int, reason: str):
    pg.assert_failed(pg.run(b"", "--test", **settings), exit_code, reason)
