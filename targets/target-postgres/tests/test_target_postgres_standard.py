"""The connector kit's standard target suite, run against target-postgres (it upserts on the
key properties, so a duplicate key keeps the last version)."""

from __future__ import annotations

import pytest

from dativo_connector_kit.testing import TargetSuite


class TestStandardSuite(TargetSuite):
    dedupes_by_key = True

    @pytest.fixture
    def target(self, pg):
        return pg
