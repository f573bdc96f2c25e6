"""A bad job file is refused before anything starts: exit 2, file, key path and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from dativo_ingest.config import load_job
from dativo_ingest.exceptions import JobFileError
from tests.conftest import FAKE_TAP, FAKE_TARGET

VALID = f"""
tenant_id: acme
name: orders
source:
  executable: {FAKE_TAP}
  config: {{records: 1}}
target:
  executable: {FAKE_TARGET}
  config: {{}}
"""


def problems_of(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> str:
    path = tmp_path / "job.yaml"
    path.write_text(text)
    with pytest.raises(JobFileError) as caught:
        load_job(path, environ or {})
    message = str(caught.value)
    assert str(path) in message
    return message


def test_valid_job_loads_with_state_id(tmp_path: Path) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(VALID)
    job = load_job(path, {})
    assert job.state_id == "acme/orders"
    assert job.source.executable == Path(FAKE_TAP)
    assert job.source.config == {"records": 1}


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    message = problems_of(tmp_path, "tenant_id: acme\nname: [unclosed\n")
    assert "line 3" in message and "invalid YAML" in message


def test_top_level_must_be_mapping(tmp_path: Path) -> None:
    assert "must be a mapping" in problems_of(tmp_path, "- just\n- a list\n")


def test_unknown_key_is_named(tmp_path: Path) -> None:
    message = problems_of(tmp_path, VALID + "schedule: daily\n")
    assert "schedule: unknown key" in message


def test_unknown_nested_key_has_path(tmp_path: Path) -> None:
    message = problems_of(tmp_path, VALID.replace("config: {records: 1}", "confg: {}"))
    assert "source.confg: unknown key (did you mean 'config'?)" in message


def test_key_of_another_section_is_told_where_it_goes(tmp_path: Path) -> None:
    text = VALID.replace("  config: {}\n", "  config: {}\n  timeout: 30\n  retries: 2\n")
    message = problems_of(tmp_path, text)
    assert "target.timeout: unknown key ('timeout' goes at the top level)" in message
    assert "target.retries: unknown key (did you mean 'retry', at the top level?)" in message


def test_missing_field(tmp_path: Path) -> None:
    message = problems_of(tmp_path, VALID.replace("name: orders\n", ""))
    assert "name: required key is missing" in message


def test_wrong_type(tmp_path: Path) -> None:
    message = problems_of(tmp_path, VALID.replace("config: {}", "config: [1, 2]"))
    assert "target.config: Input should be a valid dictionary" in message


def test_bad_identifier(tmp_path: Path) -> None:
    message = problems_of(tmp_path, VALID.replace("tenant_id: acme", "tenant_id: Acme Corp"))
    assert "tenant_id: String should match pattern" in message


def test_missing_env_var_is_named_with_path(tmp_path: Path) -> None:
    text = VALID.replace("{records: 1}", "{records: 1, db: {password: '${DB_PASSWORD}'}}")
    message = problems_of(tmp_path, text)
    assert "source.config.db.password: environment variable DB_PASSWORD is not set" in message


def test_env_vars_are_substituted_and_dollar_escaped(tmp_path: Path) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(VALID.replace("{records: 1}", "{url: 'pg://u:${PW}@h/$${DB}', n: ['${N}']}"))
    job = load_job(path, {"PW": "s3cret!", "N": "7"})
    assert job.source.config == {"url": "pg://u:s3cret!@h/${DB}", "n": ["7"]}
    assert job.redact("password is s3cret!") == "password is ***"


def test_executable_not_found_on_path(tmp_path: Path) -> None:
    message = problems_of(tmp_path, VALID.replace(FAKE_TAP, "tap-does-not-exist"))
    assert "source.executable: executable 'tap-does-not-exist' not found in PATH" in message


def test_executable_relative_to_job_file(tmp_path: Path) -> None:
    program = tmp_path / "bin" / "my-tap"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    path = tmp_path / "job.yaml"
    path.write_text(VALID.replace(FAKE_TAP, "bin/my-tap"))
    assert load_job(path, {}).source.executable == program
    message = problems_of(tmp_path, VALID.replace(FAKE_TAP, "./bin/missing"))
    assert "relative to the job file" in message


def test_catalog_file_must_exist(tmp_path: Path) -> None:
    text = VALID.replace("  config: {records: 1}", "  config: {records: 1}\n  catalog: cat.json")
    assert "source.catalog: catalog file not found" in problems_of(tmp_path, text)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = VALID.replace("name: orders\n", "").replace(FAKE_TARGET, "nope") + "extra: 1\n"
    message = problems_of(tmp_path, text)
    assert "name: required key is missing" in message and "extra: unknown key" in message


def test_cli_refuses_bad_job_with_exit_2_before_starting(tmp_path, write_job, dativo) -> None:
    marker = tmp_path / "started"
    job = write_job(source={"state_copy": str(marker)}, schedule="daily")
    result = dativo("run", job)
    assert result.returncode == 2
    assert f"{job}: schedule: unknown key" in result.stderr
    assert not marker.exists()


def test_cli_missing_job_file(tmp_path, dativo) -> None:
    result = dativo("run", tmp_path / "nope.yaml")
    assert result.returncode == 2 and "cannot read the file" in result.stderr
