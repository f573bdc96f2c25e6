"""The connector kit's standard target suite, run against target-parquet (nested values as
Parquet structs and lists)."""

from __future__ import annotations

import pytest

from dativo_connector_kit.testing import TargetSuite


class TestStandardSuite(TargetSuite):
    settings = {"nested_as_json": False}  # noqa: RUF012 - the suite's class setting

    @pytest.fixture
    def target(self, parquet):
        return parquet
