"""Running a target under test: config files, real subprocesses, the states it echoed."""

from __future__ import annotations

import json
import subprocess
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Callable
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
    def schema(
        stream: str = "users", keys: tuple[str, ...] = ("id",), **properties: t.Any
    ) -> dict[str, t.Any]:
        """A SCHEMA message (default: ``users`` with ``id`` and a nullable ``name``)."""
        props = properties or {"id": {"type": "integer"}, "name": {"type": ["string", "null"]}}
        return {
            "type": "SCHEMA",
            "stream": stream,
            "schema": {"type": "object", "properties": props},
            "key_properties": list(keys),
        }

    @staticmethod
    def record(stream: str = "users", id_: int = 1, **fields: t.Any) -> dict[str, t.Any]:
        """A RECORD message with an ``id``."""
        return {"type": "RECORD", "stream": stream, "record": {"id": id_, **fields}}

    @staticmethod
    def state(position: int) -> dict[str, t.Any]:
        """A STATE message whose bookmark is ``position``."""
        return {"type": "STATE", "value": {"bookmarks": {"users": {"id": position}}}}

    def csv_source(self, **tables: tuple[str, str]) -> Path:
        """Write ``table=(csv text, key column)`` as ``csv/<table>.csv`` in the folder, and
        ``tap-csv.json``, a config of our tap-csv reading them (entity = table); return the
        ``csv`` folder."""
        folder = self.folder / "csv"
        folder.mkdir(exist_ok=True)
        files = []
        for table, (text, key) in tables.items():
            (folder / f"{table}.csv").write_text(text)
            files.append({"entity": table, "path": str(folder / f"{table}.csv"), "keys": [key]})
        (self.folder / "tap-csv.json").write_text(json.dumps({"files": files}))
        return folder

    def pipe_from(self, tap: str, tap_config: Path, config: Path) -> Path:
        """``tap --config T | target --config C > state.json`` as a shell runs it, with a
        ``tee`` keeping what the tap sent in ``sent.singer``; both files in the folder. Return
        the file of what the tap sent."""
        sent, state = self.folder / "sent.singer", self.folder / "state.json"
        command = (
            f"set -o pipefail; '{tap}' --config '{tap_config}' | tee '{sent}' | "
            f"'{self.executable}' --config '{config}' > '{state}'"
        )
        result = subprocess.run(
            ["bash", "-c", command], capture_output=True, text=True, timeout=2 * TIMEOUT_SECONDS
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return sent

    def last_state(self) -> t.Any:
        """The last state the target echoed in ``pipe_from``."""
        return json.loads((self.folder / "state.json").read_text().splitlines()[-1])

    @staticmethod
    def sent_records(sent: Path) -> dict[str, list[dict[str, t.Any]]]:
        """The records in a file of Singer messages, by stream."""
        records: dict[str, list[dict[str, t.Any]]] = {}
        for line in sent.read_bytes().splitlines():
            message = json.loads(line)
            if message["type"] == "RECORD":
                records.setdefault(message["stream"], []).append(message["record"])
        return records

    @staticmethod
    def encode(*messages: dict[str, t.Any]) -> bytes:
        """Singer messages as JSON lines (UTF-8, not ASCII-escaped)."""
        return b"".join(
            json.dumps(message, ensure_ascii=False).encode() + b"\n" for message in messages
        )

    @staticmethod
    def compact(*messages: dict[str, t.Any]) -> bytes:
        """Singer messages as compact JSON lines, as most taps write them (the loop hands
        their RECORD lines to a target that takes runs undecoded)."""
        return b"".join(
            json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
            for message in messages
        )

    def run_both_ways(
        self,
        messages: list[dict[str, t.Any]],
        read: Callable[[], t.Any],
        clear: Callable[[], None],
        **settings: t.Any,
    ) -> subprocess.CompletedProcess[bytes]:
        """Run ``messages`` as ``encode`` writes them, ``clear`` the destination, then run them
        as ``compact`` lines (which the loop may hand over in runs): both runs must end alike
        (exit status, stdout, stderr and what ``read`` finds in the destination). Return the
        second run's result; its output stays in the destination."""
        outcomes: list[tuple[int, bytes, bytes, t.Any]] = []
        for encode in (self.encode, self.compact):
            if outcomes:
                clear()
            result = self.run(encode(*messages), **settings)
            outcomes.append((result.returncode, result.stdout, result.stderr, read()))
        assert outcomes[1] == outcomes[0]
        return result

    @staticmethod
    def assert_failed(
        result: subprocess.CompletedProcess[bytes], exit_code: int, *texts: str
    ) -> None:
        """The run exited with ``exit_code`` and its stderr holds every one of ``texts``."""
        stderr = result.stderr.decode()
        assert result.returncode == exit_code, stderr
        assert [text for text in texts if text not in stderr] == [], stderr

    @staticmethod
    def echoed(result: subprocess.CompletedProcess[bytes]) -> list[t.Any]:
        """The states a run echoed on stdout."""
        return [json.loads(line) for line in result.stdout.splitlines()]


class FolderTargetRunner(TargetRunner):
    """A target writing into a local folder: ``out`` in the test's folder."""

    def __init__(self, executable: str, folder: Path) -> None:
        """Run ``executable`` with ``destination_path`` set to ``folder / "out"``."""
        super().__init__(executable, folder)
        self.out = folder / "out"

    def base_settings(self) -> dict[str, t.Any]:
        """``destination_path``: the ``out`` folder."""
        return {"destination_path": str(self.out)}
