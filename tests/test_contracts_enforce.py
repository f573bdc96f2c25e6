"""The compiled checks and the enforcer on their own: the fast path and the explanation agree
on every value, contract text never becomes code, and enforcement composes with stream maps
(contracts see what the source sent, maps come after)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from dativo_ingest.contracts.checks import compile_checks
from dativo_ingest.contracts.enforce import ContractEnforcer, ContractViolationError
from dativo_ingest.contracts.model import AssetContract
from dativo_ingest.contracts.quarantine import Quarantine
from dativo_ingest.protocol.chain import Chain
from dativo_ingest.protocol.stream_maps import StreamMapper, compile_stream_maps
from tests.conftest import PROGRAMS

PROPERTIES: list[dict[str, Any]] = [
    {
        "name": "id",
        "logicalType": "integer",
        "required": True,
        "logicalTypeOptions": {"minimum": 0},
    },
    {
        "name": "code",
        "logicalType": "string",
        "logicalTypeOptions": {"pattern": "^[a-z]+$", "maxLength": 4},
    },
    {
        "name": "price",
        "logicalType": "number",
        "logicalTypeOptions": {"exclusiveMaximum": 100, "multipleOf": 0.5},
    },
    {"name": "day", "logicalType": "date"},
    {"name": "at", "logicalType": "timestamp"},
    {"name": "ok", "logicalType": "boolean"},
    {"name": "tags", "logicalType": "array", "logicalTypeOptions": {"maxItems": 2}},
    {"name": "meta", "logicalType": "object"},
    {"name": "free"},
    {
        "name": "kind",
        "logicalType": "string",
        "quality": [
            {"metric": "invalidValues", "arguments": {"validValues": ["a", "b"]}, "mustBe": 0},
            {"metric": "missingValues", "arguments": {"missingValues": ["", "n/a"]}, "mustBe": 0},
            {"metric": "nullValues", "mustBe": 0},
        ],
    },
    {"name": "'); import os; ('", "logicalType": "string"},  # a name is data, never code
]
POOL: list[Any] = [
    None, 0, 1, -1, 7, 99.5, 100, 0.25, True, False, "", "a", "b", "abc", "abcde", "A1",
    "n/a", "2024-02-30", "2024-02-01", "2024-02-01T10:00:00+00:00", "nope", [], [1], [1, 2, 3],
    {}, {"x": 1},
]  # fmt: skip


def make_contract(properties: list[dict[str, Any]], **modes: str) -> AssetContract:
    return AssetContract.model_validate(
        {
            "id": "c",
            "version": "1",
            "schema": [{"name": "s", "properties": properties}],
            "customProperties": [{"property": "dativo.enforcement", "value": modes}],
        }
    )


def message(record: Any) -> bytes:
    return orjson.dumps({"type": "RECORD", "stream": "s", "record": record, "time_extracted": 1})


def test_fast_path_and_explanation_agree_on_every_value() -> None:
    checks = compile_checks(make_contract(PROPERTIES).schema_[0])
    names = [p["name"] for p in PROPERTIES] + ["new_one"]
    good = {"id": 1, "code": "ab", "price": 99.5, "day": "2024-02-01", "kind": "a"}
    assert checks.failing([message(good)]) == [] and checks.explain(good) == []
    draw = random.Random(15)
    records: list[Any] = ["not an object", [1], None]
    for _ in range(5000):  # the good record with up to two fields set to any value
        record = dict(good)
        for name in draw.sample(names, draw.randint(0, 2)):
            record[name] = draw.choice(POOL)
        records.append(record)
    failing = set(checks.failing([message(r) for r in records]))
    explained = {i for i, record in enumerate(records) if checks.explain(record)}
    assert failing == explained
    assert 1000 < len(failing) < len(records) - 1000
    rules = {v.rule for v in checks.explain({"id": -1, "kind": "n/a", "day": "2024-02-30"})}
    assert rules == {"id.minimum", "kind.invalidValues", "kind.missingValues", "day.logicalType"}
    injected = {"id": 1, "kind": "a", "'); import os; ('": 5}
    assert [v.rule for v in checks.explain(injected)] == ["'); import os; ('.logicalType"]


def lines(*messages: dict[str, Any]) -> list[bytes]:
    return [orjson.dumps(m) for m in messages]


SCHEMA = {"type": "SCHEMA", "stream": "s", "schema": {"properties": {}}, "key_properties": []}


def test_contracts_check_what_the_source_sent_before_the_maps(tmp_path: Path) -> None:
    contract = make_contract(
        [{"name": "id", "logicalType": "integer", "logicalTypeOptions": {"maximum": 5}}],
        rule_violation="discard_row",
    )
    quarantine = Quarantine(tmp_path, "r1")
    enforcer = ContractEnforcer({"s": contract}, quarantine)
    mapper = StreamMapper(compile_stream_maps({"s": {"key": "id", "id": None, "__alias__": "t"}}))
    chain = Chain([enforcer, mapper])
    out = chain.translate(
        lines(
            SCHEMA,
            {"type": "RECORD", "stream": "s", "record": {"id": 1}},
            {"type": "RECORD", "stream": "s", "record": {"id": 9}},
            {"type": "STATE", "value": {"n": 2}},
        )
    )
    messages = [orjson.loads(line) for line in out.splitlines()]
    assert [m.get("record") for m in messages if m["type"] == "RECORD"] == [{"key": 1}]
    assert {m.get("stream") for m in messages if m["type"] == "RECORD"} == {"t"}
    assert chain.records == 1 and chain.last_state == {"n": 2}
    chain.track_states = False
    assert not enforcer.track_states and not mapper.track_states
    assert enforcer.report()["s"]["discarded"] == 1
    quarantine.close()
    assert orjson.loads((tmp_path / "s.jsonl").read_bytes())["record"] == {"id": 9}


def test_freeze_raises_before_any_line_of_the_chunk_goes_on(tmp_path: Path) -> None:
    contract = make_contract([{"name": "id", "logicalType": "integer"}])  # type_mismatch: freeze
    enforcer = ContractEnforcer({"s": contract}, Quarantine(tmp_path, "r1"))
    with pytest.raises(ContractViolationError, match=r"s: line 3 .* c@1 \(id.logicalType\)"):
        enforcer.translate(
            lines(
                SCHEMA,
                {"type": "RECORD", "stream": "s", "record": {"id": 1}},
                {"type": "RECORD", "stream": "s", "record": {"id": "1"}},
            )
        )


def test_airbyte_to_airbyte_with_contracts_is_refused_before_anything_starts(tmp_path, dativo):
    (tmp_path / "dativo.yaml").write_text("{}\n")
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(make_contract([]).model_dump(by_alias=True)))
    source = {
        "executable": str(PROGRAMS / "fake_airbyte_source.py"),
        "protocol": "airbyte",
        "config": {"streams": ["s"]},
        "assets": {"s": "c.yaml"},
    }
    target = {
        "executable": str(PROGRAMS / "fake_airbyte_destination.py"),
        "protocol": "airbyte",
        "config": {},
    }
    job = tmp_path / "job.yaml"
    job.write_text(
        yaml.safe_dump({"tenant_id": "a", "name": "j", "source": source, "target": target})
    )
    result = dativo("run", job, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "source.assets: contracts are enforced on the Singer stream" in result.stderr


def test_a_chunk_of_only_record_lines_is_checked_whole(tmp_path: Path) -> None:
    contract = make_contract(
        [{"name": "id", "logicalType": "integer", "logicalTypeOptions": {"maximum": 5}}],
        rule_violation="discard_value",
    )
    quarantine = Quarantine(tmp_path, "r1")
    enforcer = ContractEnforcer({"s": contract}, quarantine)
    records = [{"type": "RECORD", "stream": "s", "record": {"id": n}} for n in (1, 9, 2)]
    assert enforcer.translate(lines(*records)) == b"".join(
        orjson.dumps({**m, "record": {"id": None if m["record"]["id"] == 9 else m["record"]["id"]}})
        + b"\n"
        for m in records
    )
    passed = lines(*records[:1], *records[2:])
    assert enforcer.translate(list(passed)) == b"\n".join(passed) + b"\n"
    assert enforcer.report()["s"] == {
        "contract": "c@1",
        "passed": 4,
        "discarded": 0,
        "changed": 1,
        "drift": {"id.maximum": 1},
    }
    quarantine.close()
