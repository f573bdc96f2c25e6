"""ACTIVATE_VERSION: a full-table sync replaces the rows of older versions."""

from __future__ import annotations

import pytest

PROPERTIES = {"id": {"type": "integer"}, "name": {"type": "string"}}


def full_sync(pg, version: int, ids: list[int]) -> bytes:
    """A full-table sync as taps send it: ACTIVATE_VERSION, versioned records, ACTIVATE_VERSION."""
    activate = {"type": "ACTIVATE_VERSION", "stream": "items", "version": version}
    records = []
    for i in ids:
        message = pg.record("items", id=i, name=f"v{version}")
        message["version"] = version
        records.append(message)
    return pg.singer(pg.schema_message("items", PROPERTIES), activate, *records, activate)


def test_hard_delete_removes_rows_of_older_versions(pg):
    pg.load(full_sync(pg, 1, [1, 2, 3]), hard_delete=True)
    pg.load(full_sync(pg, 2, [2, 3, 4]), hard_delete=True, batch_size_rows=2)
    assert pg.query("SELECT id, name, _sdc_table_version FROM {schema}.items ORDER BY id") == [
        (2, "v2", 2),
        (3, "v2", 2),
        (4, "v2", 2),
    ]


def test_soft_delete_marks_rows_of_older_versions(pg):
    pg.load(full_sync(pg, 1, [1, 2, 3]))
    pg.load(full_sync(pg, 2, [2, 3]))
    rows = pg.query("SELECT id, name, _sdc_deleted_at IS NOT NULL FROM {schema}.items ORDER BY id")
    assert rows == [(1, "v1", True), (2, "v2", False), (3, "v2", False)]
    pg.load(full_sync(pg, 3, [1]))  # a row that comes back is live again
    rows = pg.query("SELECT id FROM {schema}.items WHERE _sdc_deleted_at IS NULL")
    assert rows == [(1,)]


@pytest.mark.parametrize("settings", [{"add_record_metadata": False}, {"activate_version": False}])
def test_activate_version_is_ignored_with_a_warning_when_disabled(pg, settings):
    result = pg.load(full_sync(pg, 1, [1, 2]) + full_sync(pg, 2, [2]), **settings)
    assert result.stderr.count(b"warning") == 1
    assert b"ignoring ACTIVATE_VERSION" in result.stderr
    assert pg.query("SELECT count(*) FROM {schema}.items") == [(2,)]
