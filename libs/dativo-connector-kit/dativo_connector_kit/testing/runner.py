"""Running a target under test: config files, real subprocesses, the states it echoed."""

from __future__ import annotations

import json
import subprocess
import typing as t

if t.TYPE_CHECKING:
    from pathlib import Path

TIMEOUT_SECONDS = 60


class TargetRunner:
    """One test's target: its executable and a folder for configs; subclasses add
    ``base_settings`` (where the destination is) and readers of what the target wrote."""

    def __init__(self, executable: str, folder: Path) -> None:
        """Run ``executable``, writing config files into ``folder``."""
        self.executable = executable
        self.folder = folder

    def base_settings(self) -> dict[str, t.Any]:
        """The settings every config of this test starts from."""
        return {}

    def config(self, name: str = "target.json", **settings: t.Any) -> Path:
        """Write a config file: ``base_settings`` updated with ``settings``."""
        path = self.folder / name
        path.write_text(json.dumps({**self.base_settings(), **settings}))
        return path

    def run(
        self, stdin: bytes, *args: str, config: Path | None = None, **settings: t.Any
    ) -> subprocess.CompletedProcess[bytes]:
        """Run the target to the end on ``stdin`` (config from ``settings`` unless given)."""
        return subprocess.run(
            [self.executable, "--config", str(config or self.config(**settings)), *args],
            input=stdin,
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )

    def start(self, **settings: t.Any) -> subprocess.Popen[bytes]:
        """Start the target with pipes on stdin and stdout (stderr appended to a file in the
        folder, ``stderr.txt``)."""
        with (self.folder / "stderr.txt").open("ab") as stderr:
            return subprocess.Popen(
                [self.executable, "--config", str(self.config(**settings))],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
            )

    @staticmethod
    def schema(stream: str = "users", keys: tuple[str, ...] = ("id",), **properties: t.Any) -> dict:
        """A SCHEMA message (default: ``users`` with ``id`` and a nullable ``name``)."""
        props = properties or {"id": {"type": "integer"}, "name": {"type": ["string", "null"]}}
        return {
            "type": "SCHEMA",
            "stream": stream,
            "schema": {"type": "object", "properties": props},
            "key_properties": list(keys),
        }

    @staticmethod
    def record(stream: str = "users", id_: int = 1, **fields: t.Any) -> dict:
        """A RECORD message with an ``id``."""
        return {"type": "RECORD", "stream": stream, "record": {"id": id_, **fields}}

    @staticmethod
    def state(position: int) -> dict:
        """A STATE message whose bookmark is ``position``."""
        return {"type": "STATE", "value": {"bookmarks": {"users": {"id": position}}}}

    @staticmethod
    def encode(*messages: dict[str, t.Any]) -> bytes:
        """Singer messages as JSON lines (UTF-8, not ASCII-escaped)."""
        return b"".join(
            json.dumps(message, ensure_ascii=False).encode() + b"\n" for message in messages
        )

    @staticmethod
    def echoed(result: subprocess.CompletedProcess[bytes]) -> list[t.Any]:
        """The states a run echoed on stdout."""
        return [json.loads(line) for line in result.stdout.splitlines()]
