"""A run that starts no container does not load the Docker SDK, and a whole `dativo run` loads
none of the heavy modules it does not use (the layers themselves are checked by
`lint-imports` in `make test`)."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from dativo_ingest.cli.main import COMMANDS, build_parser

# What `dativo run` of a job naming executables must never import: other commands' extras
# (Temporal, the UI, Docker, the Postgres driver, rich), the event loop only Temporal needs,
# what only `dativo connectors` reads (pyproject files), the other commands' modules, the
# connector registry (its models and files), which only jobs naming a connector need, and
# pydantic (job files are read by `schema`: pydantic's import and model building were half
# of a run's start).
NOT_ON_THE_RUN_PATH = (
    "asyncio",
    "docker",
    "fastapi",
    "jinja2",
    "msgspec",
    "psycopg",
    "pydantic",
    "requests",
    "rich",
    "starlette",
    "temporalio",
    "tomllib",
    "uvicorn",
    "dativo_ingest.contracts.enforce",
    "dativo_ingest.contracts.model",
    "dativo_ingest.cli.connectors_cmd",
    "dativo_ingest.cli.logs_cmd",
    "dativo_ingest.cli.state_cmd",
    "dativo_ingest.registry",
    "dativo_ingest.runtime.container",
    "dativo_ingest.ui",
    "dativo_ingest.workers",
)


def test_the_run_path_loads_no_docker_sdk() -> None:
    code = (
        "import sys, dativo_ingest.cli.main, dativo_ingest.pipeline.run;"
        "print(sorted({'docker', 'requests'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_a_whole_run_loads_no_heavy_module(write_job, env, tmp_path) -> None:
    job = write_job(source={"records": 10})
    code = (
        "import sys\n"
        "from dativo_ingest.cli.main import main\n"
        "code = main(['run', sys.argv[1]])\n"
        f"heavy = {NOT_ON_THE_RUN_PATH!r}\n"
        "print(code, sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(job)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0 []", result.stderr


def _registered(parser: argparse.ArgumentParser) -> list[str]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(sub.choices)


def test_the_command_table_names_every_command_in_help_order() -> None:
    assert _registered(build_parser()) == list(COMMANDS)


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "job.yaml"],
        ["-v", "--log-format=json", "run", "job.yaml"],
        ["--log-l", "DEBUG", "-e", "prod", "run", "job.yaml"],  # an abbreviation, a value
        ["--state-url", "sqlite:///x.db", "runs"],
        ["connectors", "list"],
    ],
)
def test_only_the_invoked_commands_module_is_registered(argv: list[str]) -> None:
    named = next(a for a in argv if a in COMMANDS)
    registered = _registered(build_parser(argv))
    assert named in registered
    assert {COMMANDS[c] for c in registered} == {COMMANDS[named]}
    assert build_parser(argv).parse_args(argv).command == named


@pytest.mark.parametrize(
    "argv", [None, [], ["--help"], ["runn", "job.yaml"], ["--log-level", "X", "run"]]
)
def test_without_a_known_command_every_command_is_registered(argv: list[str] | None) -> None:
    assert _registered(build_parser(argv)) == list(COMMANDS)
