"""The ``parquet`` fixture: runs the installed target-parquet on Singer messages and reads back,
with pyarrow, the files it published."""

from __future__ import annotations

import json
import re
import subprocess
import typing as t
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

FILE_NAME = re.compile(r"^part-\d{8}T\d{6}Z-[0-9a-f]{8}-\d{6}\.parquet$")
TMP_FOLDER = ".dativo-tmp"


class TargetParquet:
    """One test's target: its executable, config writer, Singer message builders, and readers
    of the destination folder ``out``."""

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

    def files(self, stream: str = "users") -> list[Path]:
        """The visible Parquet files of a stream (in every partition), in name order; every
        file in the stream's folder must be one, correctly named."""
        folder = self.out / stream
        if not folder.exists():
            return []
        found = [path for path in folder.rglob("*") if path.is_file()]
        for path in found:
            assert FILE_NAME.match(path.name), f"unexpected file in the stream folder: {path}"
        return sorted(found, key=lambda path: path.name)

    def tmp_files(self) -> list[Path]:
        folder = self.out / TMP_FOLDER
        return sorted(folder.iterdir()) if folder.exists() else []

    def tables(self, stream: str = "users") -> list[pa.Table]:
        """Each visible file read whole with pyarrow (fails on a partial file)."""
        return [pq.read_table(path) for path in self.files(stream)]

    def rows(self, stream: str = "users") -> list[dict]:
        """Every published row of a stream, in file order."""
        return [row for table in self.tables(stream) for row in table.to_pylist()]


@pytest.fixture
def parquet(connector_exe, tmp_path: Path) -> TargetParquet:
    return TargetParquet(connector_exe("target-parquet"), tmp_path)
