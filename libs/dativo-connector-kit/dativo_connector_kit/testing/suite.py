"""The standard target test suite: canned Singer streams of awkward input, run through a real
target process, checked against what the destination holds afterwards.

A target's tests subclass ``TargetSuite`` and provide a ``target`` fixture returning a
``TargetRunner`` whose ``base_settings`` point at a fresh destination and whose
``rows(stream)`` reads back every row the destination holds for a stream (as dicts; extra
columns such as ``_sdc_*`` are ignored).
"""

from __future__ import annotations

import json
import typing as t
from importlib import resources

import pytest

if t.TYPE_CHECKING:
    from dativo_connector_kit.testing.runner import TargetRunner

STREAMS = resources.files("dativo_connector_kit.testing") / "streams"


class CannedStream:
    """One ``streams/<name>.singer`` file and what its messages say."""

    def __init__(self, name: str) -> None:
        """Read ``streams/<name>.singer``."""
        self.name = name
        self.data = (STREAMS / f"{name}.singer").read_bytes()
        self.messages = [json.loads(line) for line in self.data.splitlines()]

    def records(self, stream: str) -> list[dict[str, t.Any]]:
        """The records sent for ``stream``, in order."""
        return [
            message["record"]
            for message in self.messages
            if message["type"] == "RECORD" and message["stream"] == stream
        ]

    def fields(self, stream: str) -> list[str]:
        """Every property of the stream's schemas (the union of all its SCHEMA messages)."""
        found: dict[str, None] = {}
        for message in self.messages:
            if message["type"] == "SCHEMA" and message["stream"] == stream:
                found.update(dict.fromkeys(message["schema"]["properties"]))
        return list(found)

    def last_state(self) -> t.Any:
        """The value of the stream's last STATE."""
        return [message for message in self.messages if message["type"] == "STATE"][-1]["value"]


class TargetSuite:
    """The standard tests; see the module docstring for what a subclass provides."""

    #: the destination keeps one row per key (upsert) rather than every record sent
    dedupes_by_key: t.ClassVar[bool] = False
    #: settings added to the target's config in every run of the suite
    settings: t.ClassVar[dict[str, t.Any]] = {}

    @pytest.fixture
    def target(self) -> TargetRunner:
        """The target under test (each target's tests override this fixture)."""
        raise NotImplementedError

    def load(self, target: TargetRunner, name: str) -> CannedStream:
        """Run ``target`` on a canned stream; require exit 0 and the last STATE echoed last."""
        canned = CannedStream(name)
        result = target.run(canned.data, **self.settings)
        assert result.returncode == 0, result.stderr.decode()
        assert target.echoed(result)[-1] == canned.last_state()
        return canned

    def assert_round_trip(self, target: t.Any, canned: CannedStream, stream: str) -> None:
        """The destination holds exactly the records sent (absent fields read as null)."""
        fields = canned.fields(stream)
        expected = [
            {name: record.get(name) for name in fields} for record in canned.records(stream)
        ]
        actual = [{name: row.get(name) for name in fields} for row in target.rows(stream)]
        assert actual == expected

    @pytest.mark.parametrize(
        ("name", "stream"),
        [
            ("camelcase", "TestCamelcase"),
            ("special_chars", "test_special_chars"),
            ("reserved_words", "order"),
            ("nested", "test_nested"),
            ("nulls", "test_nulls"),
            ("encoded_strings", "test_strings"),
            ("no_primary_keys", "test_no_pk"),
        ],
    )
    def test_awkward_records_round_trip(self, target: t.Any, name: str, stream: str) -> None:
        """camelCase, special-character and reserved-word names, nested objects and arrays,
        NULLs and absent fields, encoded strings, and a stream without key properties (its
        repeated record kept twice) all come back exactly."""
        self.assert_round_trip(target, self.load(target, name), stream)

    @pytest.mark.parametrize(
        ("name", "stream"),
        [
            ("camelcase", "TestCamelcase"),
            ("special_chars", "test_special_chars"),
            ("nested", "test_nested"),
            ("nulls", "test_nulls"),
            ("encoded_strings", "test_strings"),
            ("no_primary_keys", "test_no_pk"),
        ],
    )
    def test_compact_lines_round_trip(self, target: t.Any, name: str, stream: str) -> None:
        """The same streams in compact JSON lines (read in runs by targets that take them)."""
        canned = CannedStream(name)
        result = target.run(target.compact(*canned.messages), **self.settings)
        assert result.returncode == 0, result.stderr.decode()
        assert target.echoed(result)[-1] == canned.last_state()
        self.assert_round_trip(target, canned, stream)

    @pytest.mark.parametrize("last", [False, True])
    @pytest.mark.parametrize(
        ("bad", "problem"),
        [
            ('{"id":450,"name":}', "not valid JSON"),
            ('{"id":450} {"id":451}', "not valid JSON"),
            ('{"id":450,"name":NaN}', "not valid JSON"),
            ('{"name":"no key"}', "RECORD for stream 'test_duplicates' lacks key property 'id'"),
            ('{"id":null,"name":"n"}', "RECORD for stream 'test_duplicates' lacks key property"),
        ],
    )
    def test_a_bad_line_in_a_long_run_fails_at_its_line(
        self, target: t.Any, bad: str, problem: str, last: bool
    ) -> None:
        """Compact lines: 300 records, a STATE, 149 records, a bad one, more records (unless
        it is the ``last`` line). The error names the bad line; the 449 records before it are
        committed, and the STATE before them echoed; nothing after it is kept."""
        schema = CannedStream("duplicates").messages[0]
        records = [
            {"type": "RECORD", "stream": "test_duplicates", "record": {"id": i, "name": "n"}}
            for i in range(1, 601)
        ]
        data = target.compact(schema, *records[:300], {"type": "STATE", "value": 300})
        data += target.compact(*records[300:449])
        data += b'{"type":"RECORD","stream":"test_duplicates","record":' + bad.encode() + b"}\n"
        if not last:
            data += target.compact(*records[450:], {"type": "STATE", "value": 600})
        result = target.run(data, **self.settings)
        target.assert_failed(result, 1, f"input line 452: {problem}")
        assert target.echoed(result) == [300]
        assert sorted(row["id"] for row in target.rows("test_duplicates")) == list(range(1, 450))

    def test_duplicates_by_key(self, target: t.Any) -> None:
        """A key sent twice: the last version wins (upserting targets) or both stay in order."""
        canned = self.load(target, "duplicates")
        sent = canned.records("test_duplicates")
        if self.dedupes_by_key:
            expected = sorted({record["id"]: record for record in sent}.values(), key=_by_id)
            rows = sorted(target.rows("test_duplicates"), key=_by_id)
            assert _project(rows, ["id", "name"]) == expected
        else:
            self.assert_round_trip(target, canned, "test_duplicates")

    def test_schema_change_with_widening(self, target: t.Any) -> None:
        """A second SCHEMA widens a column (integer to number) and adds one: every record stays,
        the earlier ones with null in the new column."""
        canned = self.load(target, "schema_widening")
        fields = canned.fields("test_widening")
        rows = sorted(target.rows("test_widening"), key=_by_id)
        expected = [
            {name: record.get(name) for name in fields}
            for record in canned.records("test_widening")
        ]
        assert [{name: row.get(name) for name in fields} for row in rows] == expected

    def test_each_state_is_echoed_once_the_records_before_it_are_committed(
        self, target: t.Any
    ) -> None:
        """Batches of two: a commit echoes the latest state before it; a state arriving with
        nothing pending is echoed at once; the end commits the rest."""
        messages: list[dict[str, t.Any]] = [CannedStream("duplicates").messages[0]]
        for position in range(1, 6):
            messages.append(
                {
                    "type": "RECORD",
                    "stream": "test_duplicates",
                    "record": {"id": position, "name": "n"},
                }
            )
            messages.append({"type": "STATE", "value": position})
        settings = {**self.settings, "batch_size_rows": 2, "max_batch_age_seconds": 3600}
        result = target.run(target.encode(*messages), **settings)
        assert result.returncode == 0, result.stderr.decode()
        assert target.echoed(result) == [1, 2, 3, 4, 5]
        assert sorted(row["id"] for row in target.rows("test_duplicates")) == [1, 2, 3, 4, 5]

    def test_record_before_schema_fails_naming_its_line(self, target: t.Any) -> None:
        """Nothing is written; the error names line 1 and the stream."""
        result = target.run(CannedStream("record_before_schema").data, **self.settings)
        assert result.returncode == 1
        assert (
            b"input line 1: RECORD for stream 'test_early' arrived before its SCHEMA"
            in result.stderr
        )
        assert result.stdout == b""

    def test_record_missing_a_key_property_fails_naming_its_line(self, target: t.Any) -> None:
        """The record before it is committed; the error names line 3, the stream and key."""
        result = target.run(CannedStream("record_missing_key_property").data, **self.settings)
        expected = "input line 3: RECORD for stream 'test_missing_key' lacks key property 'id'"
        target.assert_failed(result, 1, expected)
        assert [row["id"] for row in target.rows("test_missing_key")] == [1]

    def test_unknown_stream_fails_after_committing_what_came_before(self, target: t.Any) -> None:
        """A RECORD of a stream with no SCHEMA stops the run at its line; the records and the
        STATE before it are committed and echoed, the STATE after it is not."""
        canned = CannedStream("unknown_stream")
        result = target.run(canned.data, **self.settings)
        assert result.returncode == 1
        assert (
            b"input line 4: RECORD for stream 'test_unknown' arrived before its SCHEMA"
            in result.stderr
        )
        assert target.echoed(result) == [canned.messages[2]["value"]]
        assert [row["id"] for row in target.rows("test_known")] == [1]

    def test_test_mode_writes_nothing(self, target: t.Any) -> None:
        """``--test`` exits 0 without reading input or writing a row."""
        result = target.run(b"", "--test", **self.settings)
        assert result.returncode == 0, result.stderr.decode()
        assert b"test passed" in result.stderr
        assert target.rows("test_known") == []


def _by_id(row: dict[str, t.Any]) -> t.Any:
    return row["id"]


def _project(rows: list[dict[str, t.Any]], fields: list[str]) -> list[dict[str, t.Any]]:
    """Each row reduced to ``fields`` (an absent one as None)."""
    return [{name: row.get(name) for name in fields} for row in rows]
