"""A run that starts no container does not load the Docker SDK (the layers themselves are
checked by `lint-imports` in `make test`)."""

from __future__ import annotations

import subprocess
import sys


def test_the_run_path_loads_no_docker_sdk() -> None:
    code = (
        "import sys, dativo_ingest.cli.main, dativo_ingest.pipeline.run;"
        "print(sorted({'docker', 'requests'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
