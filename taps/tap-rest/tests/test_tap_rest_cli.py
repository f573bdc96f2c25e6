"""The command line: --about, --test, config errors in every mode, and a README covering
every setting."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
SCHEMA = {"properties": {"id": {"type": "integer"}}}


@pytest.fixture(scope="module")
def about(connector_exe) -> dict:
    result = subprocess.run(
        [connector_exe("tap-rest"), "--about", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


#: Settings singer-sdk adds to every tap; the README names them without detailing them.
SDK_SETTINGS = {
    "batch_config",
    "faker_config",
    "flattening_enabled",
    "flattening_max_depth",
    "flattening_max_key_length",
    "flattening_separator",
    "stream_map_config",
    "stream_maps",
}


def setting_names(schema: dict) -> set[str]:
    """Every property name in a settings schema, nested ones included (not inside the SDK's)."""
    names = set()
    for name, definition in schema.get("properties", {}).items():
        names.add(name)
        if name not in SDK_SETTINGS:
            names |= setting_names(definition)
            names |= setting_names(definition.get("items", {}))
    return names


def test_about_describes_settings_and_capabilities(about: dict) -> None:
    info = about
    assert info["name"] == "tap-rest"
    assert {"discover", "catalog", "state", "about"} <= set(info["capabilities"])
    settings = info["settings"]
    assert set(settings["required"]) == {"api_url", "streams"}
    stream = settings["properties"]["streams"]["items"]["properties"]
    assert {"name", "path", "records_path", "replication_key", "pagination"} <= set(stream)
    assert settings["properties"]["auth"]["properties"]["token"].get("secret") is True


def test_readme_documents_every_setting(about: dict) -> None:
    documented = set(re.findall(r"`([a-z_]+)`", README.read_text()))
    missing = setting_names(about["settings"]) - documented
    assert not missing, f"README.md does not document {sorted(missing)}"


def test_test_flag_reads_one_record_of_each_stream(api, run_tap) -> None:
    api.route("/a", lambda seen: [{"id": 1}, {"id": 2}])
    api.route("/b", lambda seen: [{"id": 3}, {"id": 4}])
    config = api.config(
        {"name": "a", "path": "/a", "schema": SCHEMA},
        {"name": "b", "path": "/b", "schema": SCHEMA},
    )

    run = run_tap(config, "--test")

    assert run.returncode == 0, run.stderr
    assert run.records("a") == [{"id": 1}]
    assert run.records("b") == [{"id": 3}]


def test_test_flag_fails_clearly_when_the_api_refuses(api, run_tap) -> None:
    api.route("/a", lambda seen: (403, {"error": "forbidden"}))
    config = api.config(
        {"name": "a", "path": "/a", "schema": SCHEMA}, auth={"type": "bearer", "token": "x"}
    )

    run = run_tap(config, "--test")

    assert run.returncode == 4
    last_line = run.stderr.strip().splitlines()[-1]
    assert last_line.startswith("tap-rest: AuthenticationError: stream 'a': HTTP 403 Forbidden")


@pytest.mark.parametrize("mode", [[], ["--discover"], ["--test"]], ids=["sync", "discover", "test"])
def test_config_errors_are_all_reported_with_exit_2(api, run_tap, mode: list[str]) -> None:
    config = api.config(
        {"name": "a", "path": "/a", "incremental_param": "since"},
        {"name": "a", "path": "/b", "pagination": {"type": "cursor"}},
        {"name": "c", "path": "/c", "records_path": "$[", "primary_keys": ["id"], "schema": {}},
        auth={"type": "basic", "username": "ada"},
    )

    run = run_tap(config, *mode)

    assert run.returncode == 2, run.stderr
    (line,) = [line for line in run.stderr.splitlines() if line.startswith("tap-rest:")]
    assert line.startswith("tap-rest: ConfigurationError: invalid config:")
    for problem in (
        "streams[0].incremental_param needs streams[0].replication_key",
        "streams[1].pagination.type 'cursor' needs streams[1].pagination.cursor_path",
        "streams[2].records_path: '$[' is not a valid JSONPath",
        "streams[2]: 'id' is not a property of the stream's schema",
        "auth.type 'basic' needs auth.password",
    ):
        assert problem in line
    assert "Traceback" not in run.stderr
    assert run.stdout == ""
    assert api.seen == []


def test_schema_violations_of_the_config_exit_2(api, run_tap) -> None:
    config = api.config({"name": "a", "path": "/a"}, timeout=0, api_url="ftp://example.com")

    run = run_tap(config)

    assert run.returncode == 2
    assert "does not match '^https?://' in config['api_url']" in run.stderr
    assert "config['timeout']" in run.stderr
