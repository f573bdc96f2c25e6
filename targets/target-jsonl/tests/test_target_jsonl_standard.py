"""The connector kit's standard target suite, run against target-jsonl."""

from __future__ import annotations

import pytest

from dativo_connector_kit.testing import TargetSuite


class TestStandardSuite(TargetSuite):
    @pytest.fixture
    def target(self, jsonl):
        return jsonl
