"""The ``jsonl`` fixture: runs the installed target-jsonl on Singer messages and reads back
what it published."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from dativo_connector_kit.testing import FolderTargetRunner

FINAL_NAME = re.compile(r"^(?P<stream>.+)-\d{8}T\d{6}Z-(?P<sequence>\d{6,})\.jsonl(\.gz)?$")


class TargetJsonl(FolderTargetRunner):
    """One test's target (see ``FolderTargetRunner``) and readers of what it wrote in ``out``."""

    def __init__(self, executable: str, tmp_path: Path) -> None:
        super().__init__(executable, tmp_path)
        self.tmp_path = tmp_path

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
