"""A connector's ``--about --format json``, run once per install and kept beside it."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import orjson

from dativo_ingest.logs import get_logger

log = get_logger(__name__)
ABOUT_FILE = "dativo-about.json"
_TIMEOUT_SECONDS = 60


def cached_about(env_path: Path, executable: Path) -> dict[str, Any]:
    """What ``executable --about --format json`` printed (``{}`` if it failed), read from
    ``env_path`` or run and stored there on first use."""
    cache = env_path / ABOUT_FILE
    try:
        cached: dict[str, Any] = orjson.loads(cache.read_bytes())
        return cached
    except (OSError, orjson.JSONDecodeError):
        pass
    about = _run_about(executable)
    cache.write_bytes(orjson.dumps(about))
    return about


def _run_about(executable: Path) -> dict[str, Any]:
    try:
        result = subprocess.run(
            [str(executable), "--about", "--format", "json"],
            capture_output=True,
            timeout=_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
        )
        about = orjson.loads(result.stdout) if result.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, orjson.JSONDecodeError):
        about = None
    if not isinstance(about, dict):
        log.warning("%s --about --format json gave no JSON; its config is not checked", executable)
        return {}
    return about
