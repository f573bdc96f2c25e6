"""The ``tap_csv`` fixture: runs the installed tap-csv on a config and parses what it wrote."""

from __future__ import annotations

import json
import subprocess
import typing as t
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Run:
    """One finished tap-csv process."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def messages(self) -> list[dict]:
        return [json.loads(line) for line in self.stdout.splitlines()]

    def records(self, stream: str | None = None) -> list[dict]:
        return [
            message["record"]
            for message in self.messages
            if message["type"] == "RECORD" and stream in (None, message["stream"])
        ]

    @property
    def states(self) -> list[dict]:
        return [message["value"] for message in self.messages if message["type"] == "STATE"]

    def bookmark(self, stream: str) -> dict:
        """The stream's entry in the last STATE."""
        return self.states[-1]["bookmarks"][stream]


class TapCSV:
    """Runs tap-csv with configs, states and catalogs written as files under ``tmp_path``."""

    def __init__(self, executable: str, tmp_path: Path) -> None:
        self.executable = executable
        self.tmp_path = tmp_path

    def file(self, name: str, text: str | bytes, encoding: str = "utf-8") -> str:
        """Write a data file under ``tmp_path`` (creating folders); return its path."""
        path = self.tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, str):
            text = text.encode(encoding)
        path.write_bytes(text)
        return str(path)

    def write_json(self, name: str, value: object) -> Path:
        path = self.tmp_path / name
        path.write_text(json.dumps(value))
        return path

    def run(
        self,
        config: dict | Path,
        *args: str,
        state: dict | None = None,
        catalog: dict | None = None,
    ) -> Run:
        config_path = config if isinstance(config, Path) else self.write_json("tap.json", config)
        command = [self.executable, "--config", str(config_path), *args]
        if state is not None:
            command += ["--state", str(self.write_json("state.json", state))]
        if catalog is not None:
            command += ["--catalog", str(self.write_json("catalog.json", catalog))]
        result = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
        return Run(result.returncode, result.stdout, result.stderr)

    def sync(self, config: dict | Path, **options: t.Any) -> Run:
        """Run and require success."""
        run = self.run(config, **options)
        assert run.returncode == 0, run.stderr
        return run

    def discover(self, config: dict) -> dict:
        run = self.run(config, "--discover")
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)


@pytest.fixture
def tap_csv(connector_exe: t.Callable[[str], str], tmp_path: Path) -> TapCSV:
    return TapCSV(connector_exe("tap-csv"), tmp_path)
