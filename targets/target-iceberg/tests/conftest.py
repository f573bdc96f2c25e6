"""The ``iceberg`` fixture: runs the installed target-iceberg on Singer messages and reads back,
with pyiceberg, the tables it committed."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.exceptions import NoSuchTableError

from dativo_connector_kit.testing import TargetRunner

if t.TYPE_CHECKING:
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot

NAMESPACE = "default"


class TargetIceberg(TargetRunner):
    """One test's target (see ``TargetRunner``) and readers of its warehouse ``wh``."""

    def __init__(self, executable: str, tmp_path: Path) -> None:
        super().__init__(executable, tmp_path)
        self.warehouse = tmp_path / "wh"
        self.catalog_properties: dict[str, str] = {}

    def base_settings(self) -> dict[str, t.Any]:
        return {"warehouse": str(self.warehouse)}

    # -- reading back -----------------------------------------------------------------------

    def catalog(self) -> Catalog:
        """The catalog the target wrote (the default SQLite one unless set)."""
        properties = self.catalog_properties or {
            "type": "sql",
            "uri": f"sqlite:///{self.warehouse / 'catalog.db'}",
        }
        return load_catalog("dativo", **properties)

    def table(self, stream: str = "users") -> Table | None:
        """The stream's table, or None when it does not exist."""
        if not self.catalog_properties and not (self.warehouse / "catalog.db").exists():
            return None
        try:
            return self.catalog().load_table((NAMESPACE, stream))
        except NoSuchTableError:
            return None

    def rows(self, stream: str = "users") -> list[dict[str, t.Any]]:
        """Every row of the stream's table (its current snapshot), in file order."""
        table = self.table(stream)
        return [] if table is None else table.scan().to_arrow().to_pylist()

    def snapshots(self, stream: str = "users") -> list[Snapshot]:
        """The table's snapshots, oldest first."""
        table = self.table(stream)
        return [] if table is None else list(table.snapshots())

    def marks(self, stream: str = "users") -> list[tuple[str, str, str, str]]:
        """Each snapshot's operation and its marks: run id, batch and records."""
        return [
            (
                str(snapshot.summary.operation.value),
                snapshot.summary["dativo.run_id"],
                snapshot.summary["dativo.batch"],
                snapshot.summary["dativo.records"],
            )
            for snapshot in self.snapshots(stream)
        ]


@pytest.fixture
def iceberg(connector_exe, tmp_path: Path) -> TargetIceberg:
    return TargetIceberg(connector_exe("target-iceberg"), tmp_path)
