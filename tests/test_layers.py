"""A run that starts no container does not load the Docker SDK, and a whole `dativo run` loads
none of the heavy modules it does not use (the layers themselves are checked by
`lint-imports` in `make test`)."""

from __future__ import annotations

import subprocess
import sys

# What `dativo run` of a job naming executables must never import: other commands' extras
# (Temporal, the UI, Docker, the Postgres driver, rich), the event loop only Temporal needs,
# and what only `dativo connectors` reads (pyproject files).
NOT_ON_THE_RUN_PATH = (
    "asyncio",
    "docker",
    "fastapi",
    "jinja2",
    "msgspec",
    "psycopg",
    "requests",
    "rich",
    "starlette",
    "temporalio",
    "tomllib",
    "uvicorn",
    "dativo_ingest.contracts.enforce",
    "dativo_ingest.runtime.container",
    "dativo_ingest.ui",
    "dativo_ingest.workers.client",
    "dativo_ingest.workers.worker",
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
