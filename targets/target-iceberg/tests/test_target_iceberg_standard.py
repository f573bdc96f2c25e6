"""The connector kit's standard target suite, run against target-iceberg (nested values as
Iceberg structs and lists)."""

from __future__ import annotations

import pytest

from dativo_connector_kit.testing import CannedStream, TargetSuite


class TestStandardSuite(TargetSuite):
    settings = {"nested_as_json": False}  # noqa: RUF012 - the suite's class setting

    @pytest.fixture
    def target(self, iceberg):
        return iceberg

    def test_schema_change_with_widening(self, target) -> None:
        """Iceberg cannot promote long to double (its allowed promotions: int -> long,
        float -> double, wider decimals), so the suite's integer -> number widening is a clear
        error at the second SCHEMA, after the records and STATE before it were committed."""
        canned = CannedStream("schema_widening")
        result = target.run(canned.data, **self.settings)
        assert result.returncode == 1
        assert (
            b"input line 4: SCHEMA for stream 'test_widening': field 'amount' is int64 in the "
            b"table, double in the SCHEMA" in result.stderr
        )
        assert b"write the stream to a new table (table_names)" in result.stderr
        assert target.echoed(result) == [canned.messages[2]["value"]]
        assert target.rows("test_widening") == [{"id": 1, "amount": 10}]
