"""The ``parquet`` fixture: runs the installed target-parquet on Singer messages and reads back,
with pyarrow, the files it published."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dativo_connector_kit.testing import FolderTargetRunner

FILE_NAME = re.compile(r"^part-\d{8}T\d{6}Z-[0-9a-f]{8}-\d{6}\.parquet$")
TMP_FOLDER = ".dativo-tmp"


class TargetParquet(FolderTargetRunner):
    """One test's target (see ``FolderTargetRunner``) and readers of what it wrote in ``out``."""

    def __init__(self, executable: str, tmp_path: Path) -> None:
        super().__init__(executable, tmp_path)
        self.tmp_path = tmp_path

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
