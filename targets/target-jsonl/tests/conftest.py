"""The ``jsonl`` fixture: runs the installed target-jsonl on Singer messages and reads back
what it published."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import typing as t
from pathlib import Path

import pytest

FINAL_NAME = re.compile(r"^(?P<stream>.+)-\d{8}T\d{6}Z-(?P<sequence>\d{6,})\.jsonl(\.gz)?$")


class TargetJsonl:
    """One test's target: its executable, a config writer, Singer message builders, and
    readers of the destination folder ``out``."""

    def __init__(self, executable: str, tmp_path: Path) -> None:
        self.executable = executable
        self.tmp_path = tmp_path
        self.out = tmp_path / "out"

    # -- messages ---------------------------------------------------------------------------

    @staticmethod
    def schema(stream: str = "users", keys: tuple[str, ...] = ("id",), **properties: t.Any) -> dict:
        props = properties or {"id": {"type": "integer"}, "name": {"type": ["string", "null"]}}
        return {
            "type": "SCHEMA",
            "stream": stream,
            "schema": {"type": "object", "properties": props},
            "key_properties": list(keys),
        }

    @staticmethod
    def record(stream: str = "users", id_: int = 1, **fields: t.Any) -> dict:
        return {"type": "RECORD", "stream": stream, "record": {"id": id_, **fields}}

    @staticmethod
    def state(position: int) -> dict:
        return {"type": "STATE", "value": {"bookmarks": {"users": {"id": position}}}}

    @staticmethod
    def encode(*messages: dict) -> bytes:
        return b"".join(
            json.dumps(message, ensure_ascii=False).encode() + b"\n" for message in messages
        )

    # -- running ----------------------------------------------------------------------------

    def config(self, name: str = "target.json", **settings: t.Any) -> Path:
        """Write a config file; ``destination_path`` defaults to ``out``."""
        path = self.tmp_path / name
        path.write_text(json.dumps({"destination_path": str(self.out), **settings}))
        return path

    def run(
        self, stdin: bytes, *args: str, **settings: t.Any
    ) -> subprocess.CompletedProcess[bytes]:
        """Run the target to the end on ``stdin`` with a config made of ``settings``."""
        return subprocess.run(
            [self.executable, "--config", str(self.config(**settings)), *args],
            input=stdin,
            capture_output=True,
            timeout=60,
            check=False,
        )

    def start(self, **settings: t.Any) -> subprocess.Popen[bytes]:
        """Start the target with pipes on stdin and stdout (stderr to a file in tmp_path)."""
        with (self.tmp_path / "stderr.txt").open("ab") as stderr:
            return subprocess.Popen(
                [self.executable, "--config", str(self.config(**settings))],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
            )

    @staticmethod
    def echoed(result: subprocess.CompletedProcess[bytes]) -> list[t.Any]:
        return [json.loads(line) for line in result.stdout.splitlines()]

    # -- reading back -----------------------------------------------------------------------

    def published(self, stream: str | None = None) -> list[Path]:
        """The visible (final) files, of one stream or all, in name order."""
        if not self.out.exists():
            return []
        return sorted(
            path
            for path in self.out.iterdir()
            if (match := FINAL_NAME.match(path.name))
            and (stream is None or match["stream"] == stream)
        )

    def parts(self) -> list[Path]:
        """Hidden part files (uncommitted data)."""
        return sorted(self.out.glob(".*.part")) if self.out.exists() else []

    @staticmethod
    def read(path: Path) -> list[dict]:
        """Every line of a published file; fails on a partial line or a truncated gzip."""
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        assert data == b"" or data.endswith(b"\n"), f"{path.name} ends in a partial line"
        return [json.loads(line) for line in data.splitlines()]

    def rows(self, stream: str) -> list[dict]:
        """Every record published for ``stream``, in file order."""
        return [row for path in self.published(stream) for row in self.read(path)]


@pytest.fixture
def jsonl(connector_exe, tmp_path: Path) -> TargetJsonl:
    return TargetJsonl(connector_exe("target-jsonl"), tmp_path)
