"""Projects: the root found from the job file, variables (.env, defaults, environments),
`dativo init`, and connector configs checked against the settings each side declares."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from dativo_ingest.config import load_job
from dativo_ingest.exceptions import JobFileError
from dativo_ingest.state import open_store
from tests.conftest import FAKE_TAP, FAKE_TARGET, SHARED_CONNECTORS


def make_project(root: Path, settings: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dativo.yaml").write_text(settings)
    return root


def write_job(path: Path, source: dict, target: dict, name: str = "job") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    job = {"tenant_id": "acme", "name": name, "source": source, "target": target}
    path.write_text(yaml.safe_dump(job))
    return path


def fake_job(path: Path, source_config: dict | None = None, target_config: dict | None = None):
    return write_job(
        path,
        {"executable": FAKE_TAP, "config": source_config or {}},
        {"executable": FAKE_TARGET, "config": target_config or {}},
    )


def without_home(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in ("DATIVO_HOME", "DATIVO_CONNECTORS_DIR")}


def test_same_job_from_three_folders_keeps_one_state_in_the_project(tmp_path, env, dativo):
    """The fresh-install side (installed once, never again) is in test_wheel_install."""
    root = make_project(tmp_path / "project")
    job = fake_job(root / "jobs" / "acme" / "job.yaml", {"records": 5})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = without_home(env)  # the project decides: <root>/.dativo
    for number, folder in enumerate((root, root / "jobs" / "acme", elsewhere)):
        run = dativo("run", os.path.relpath(job, folder), cwd=folder, env=env)
        assert run.returncode == 0, run.stderr
        assert ("resuming acme/job" in run.stderr) == (number > 0)
    store = open_store(root / ".dativo")
    try:
        assert store.get_state("acme/job").value == {"bookmarks": {"items": {"last_id": 15}}}
        assert len(store.list_runs()) == 3
    finally:
        store.close()
    assert not (elsewhere / ".dativo").exists()
    assert not (root / "jobs" / "acme" / ".dativo").exists()
    listed = dativo("state", "list", cwd=root / "jobs", env=env).stdout
    assert "acme/job" in listed


def test_root_home_and_catalogs_come_from_the_project_file(tmp_path, monkeypatch):
    monkeypatch.delenv("DATIVO_HOME", raising=False)
    root = make_project(tmp_path / "p", "home: state-here\n")
    job = load_job(fake_job(root / "jobs" / "deep" / "job.yaml"), {})
    assert job.project.root == root.resolve()
    assert job.project.home == (root / "state-here").resolve()
    assert job.catalog_path == root.resolve() / "catalogs" / "acme" / "job.json"
    lone = load_job(fake_job(tmp_path / "lone" / "job.yaml"), {})  # no dativo.yaml above it
    assert lone.project.root == (tmp_path / "lone").resolve()
    assert lone.project.home == (tmp_path / "lone" / ".dativo").resolve()
    monkeypatch.setenv("DATIVO_HOME", "relative/home")
    assert load_job(fake_job(root / "job.yaml"), {}).project.home.is_absolute()


def test_variables_defaults_dotenv_and_environments(tmp_path):
    root = make_project(
        tmp_path / "p",
        """
env: {REGION: eu, TABLE: base}
environments:
  prod: {env: {TABLE: prod_table, TOKEN: from-environment}}
""",
    )
    (root / ".env").write_text("# secrets\nTOKEN='from-dotenv'\nexport PORT=6543 # comment\n")
    job = fake_job(
        root / "job.yaml",
        {
            "region": "${REGION}",
            "table": "${TABLE}",
            "token": "${TOKEN}",
            "port": "${PORT}",
            "mode": "${MODE:-fast}",
            "empty_default": "${EMPTY:-fallback}",
            "literal": "$${NOT_A_VAR}",
        },
    )
    config = load_job(job, {"EMPTY": ""}).source.config
    assert config == {
        "region": "eu",
        "table": "base",
        "token": "from-dotenv",
        "port": "6543",
        "mode": "fast",
        "empty_default": "fallback",
        "literal": "${NOT_A_VAR}",
    }
    prod = load_job(job, {"TOKEN": "from-shell"}, environment="prod")
    assert prod.source.config["table"] == "prod_table"
    assert prod.source.config["token"] == "from-shell"  # the real environment always wins
    assert prod.redact("from-shell eu") == "*** eu"  # dativo.yaml's values are not secrets
    with pytest.raises(JobFileError) as caught:
        load_job(job, {}, environment="staging")
    assert "no environment 'staging' (defined: prod)" in str(caught.value)


def test_required_variable_message(tmp_path):
    job = fake_job(tmp_path / "job.yaml", {"password": "${PG_PASSWORD:?set it in .env}"})
    with pytest.raises(JobFileError) as caught:
        load_job(job, {})
    assert "source.config.password: PG_PASSWORD: set it in .env" in str(caught.value)


def test_typo_in_a_job_or_project_file_gets_a_suggestion(tmp_path):
    job = fake_job(tmp_path / "job.yaml")
    job.write_text(job.read_text().replace("target:", "targte:"))
    with pytest.raises(JobFileError) as caught:
        load_job(job, {})
    assert "targte: unknown key (did you mean 'target'?)" in str(caught.value)
    root = make_project(tmp_path / "p", "environmets: {}\n")
    with pytest.raises(JobFileError) as caught:
        load_job(fake_job(root / "job.yaml"), {})
    message = str(caught.value)
    assert str(root / "dativo.yaml") in message
    assert "environmets: unknown key (did you mean 'environments'?)" in message


def test_registry_settings_required_and_types(tmp_path):
    job = write_job(
        tmp_path / "job.yaml",
        {"connector": "tap-csv", "config": {}},
        {"connector": "target-jsonl", "config": {"destination_path": ["not", "a", "string"]}},
    )
    with pytest.raises(JobFileError) as caught:
        load_job(job, {})
    message = str(caught.value)
    assert "source.config.files: required setting is missing" in message
    assert "target.config.destination_path: expected string" in message


@pytest.mark.parametrize(
    ("side", "config", "expected"),
    [
        (
            "source",
            {"host": "127.0.0.1", "databse": "shop", "filter_schema": ["public"]},
            [
                "source.config.databse: unknown setting (did you mean 'database'?)",
                "source.config.filter_schema: unknown setting (did you mean 'filter_schemas'?)",
            ],
        ),
        (
            "target",
            {"host": "127.0.0.1", "default_target_schma": "raw"},
            [
                "target.config.default_target_schma: unknown setting "
                "(did you mean 'default_target_schema'?)"
            ],
        ),
    ],
)
def test_connector_setting_typo_exits_2_with_a_suggestion(
    tmp_path, env, dativo, side, config, expected
):
    """Unknown keys are checked against the settings the connector's `--about` declares."""
    assert SHARED_CONNECTORS.is_dir()
    named = {"connector": f"{'tap' if side == 'source' else 'target'}-postgres", "config": config}
    fake = {"executable": FAKE_TAP if side == "source" else FAKE_TARGET, "config": {}}
    job = write_job(tmp_path / "job.yaml", *((named, fake) if side == "source" else (fake, named)))
    for command in ("run", "check"):
        result = dativo(command, job, timeout=300)
        assert result.returncode == 2, result.stderr
        for line in expected:
            assert f"{job}: {line}" in result.stderr
        assert "run 2" not in result.stderr  # nothing started


def test_init_creates_a_project_and_refuses_to_overwrite(tmp_path, dativo):
    created = dativo("init", "demo")
    assert created.returncode == 0, created.stderr
    root = tmp_path / "demo"
    for name in ("dativo.yaml", ".env.example", ".gitignore", "jobs/example/csv_to_jsonl.yaml"):
        assert (root / name).is_file(), name
    assert (root / "catalogs").is_dir()
    assert ".dativo/" in (root / ".gitignore").read_text()
    job = load_job(root / "jobs/example/csv_to_jsonl.yaml", {})
    assert job.project.root == root.resolve()
    again = dativo("init", "demo")
    assert again.returncode == 2 and "already a project" in again.stderr


def test_registry_overlays_and_runtime_come_from_the_project(tmp_path, monkeypatch):
    root = make_project(
        tmp_path / "p",
        """
registry: [extra/connectors.yaml]
runtime: {mode: subprocess, memory: 1g}
environments:
  prod: {runtime: {mode: docker}}
""",
    )
    entry = "connectors:\n  - {name: %s, type: source, engine: singer, executable: %s, path: .}\n"
    (root / "extra").mkdir()
    (root / "extra/connectors.yaml").write_text(entry % ("tap-listed", "tap-listed"))
    (root / "registry.yaml").write_text(entry % ("tap-at-root", "tap-at-root"))
    monkeypatch.chdir(tmp_path)  # not the root: overlays are found from the job file
    for name in ("tap-listed", "tap-at-root"):
        job = write_job(
            root / "jobs" / "deep" / f"{name}.yaml",
            {"connector": name, "config": {}},
            {"executable": FAKE_TARGET, "config": {}},
        )
        loaded = load_job(job, {})
        assert loaded.source.spec is not None and loaded.source.spec.name == name
        assert loaded.definition.runtime is not None and loaded.definition.runtime.memory == "1g"
    prod = load_job(job, {}, environment="prod").definition.runtime
    assert prod is not None and (prod.mode, prod.memory) == ("docker", "1g")
