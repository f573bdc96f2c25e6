"""Data contracts: what enforcing a contract costs, and which validator is fastest.

Section ``run``: the relay benchmark's ``singer`` profile (bench/relay_bench.py: the
2,000,000-record ``events`` stream, message-by-message tap, decoding sink), ``dativo run``
without a contract against the same job with a contract on its one stream (``CONTRACT``:
types, a range, a pattern, a length, a timestamp, a required key; every record passes, so
every record is decoded and checked). With ``--baseline-dativo PATH`` (say, main's build), a
third arm shows what a run without a contract cost before contracts existed. Arms alternate
round by round; medians of wall time and of the CPU time of the whole process tree.

Section ``validators``: on the same records, in this process, decoding and checking a
chunk's RECORD lines (4,000, about what the relay handles at once) the way dativo does it (one
msgspec decode into a struct type made from the contract) against ``orjson`` decoding followed
by a compiled JSON Schema of the same rules (``jsonschema-rs``, ``fastjsonschema``, when
installed) or per-field Python closures, and against decoding alone. CPU time per record,
median of ``--rounds`` alternated, the cyclic collector paused as the relay pauses it.

Usage: .venv/bin/python bench/contracts_bench.py [--records 2000000] [--rounds 3]
       [--sections run,validators] [--validator-records 200000] [--baseline-dativo PATH]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from relay_bench import (
    Arm,
    BaselineDativoArm,
    DativoArm,
    Section,
    Workspace,
    ensure_data,
    load_average,
    log,
    run_section,
)

from dativo_ingest.contracts.checks import compile_checks
from dativo_ingest.contracts.model import AssetContract

CONTRACT: dict[str, Any] = {
    "apiVersion": "v3.1.0",
    "kind": "DataContract",
    "id": "bench-events",
    "version": "1.0.0",
    "status": "active",
    "schema": [
        {
            "name": "events",
            "properties": [
                {"name": "id", "logicalType": "integer", "required": True,
                 "logicalTypeOptions": {"minimum": 0}},
                {"name": "ts", "logicalType": "timestamp"},
                {"name": "user", "logicalType": "string",
                 "logicalTypeOptions": {"pattern": "^user_[0-9]+$"}},
                {"name": "amount", "logicalType": "number",
                 "logicalTypeOptions": {"minimum": 0, "maximum": 1000000000}},
                {"name": "tags", "logicalType": "array"},
                {"name": "payload", "logicalType": "string",
                 "logicalTypeOptions": {"maxLength": 200}},
            ],
        }
    ],
    "customProperties": [
        {"property": "dativo.enforcement",
         "value": {"new_columns": "freeze", "type_mismatch": "freeze", "rule_violation": "freeze"}}
    ],
}  # fmt: skip

CHUNK_LINES = 4000
JSON_SCHEMA: dict[str, Any] = {  # the same rules as a JSON Schema
    "type": "object",
    "properties": {
        "id": {"type": "integer", "minimum": 0},
        "ts": {"type": ["string", "null"], "format": "date-time"},
        "user": {"type": ["string", "null"], "pattern": "^user_[0-9]+$"},
        "amount": {"type": ["number", "null"], "minimum": 0, "maximum": 1000000000},
        "tags": {"type": ["array", "null"]},
        "payload": {"type": ["string", "null"], "maxLength": 200},
    },
    "required": ["id"],
    "additionalProperties": False,
}


class ContractDativoArm(DativoArm):
    """`dativo run` of the same job with ``source.assets`` naming ``CONTRACT``."""

    name = "dativo-contract"

    def prepare(self, ws: Workspace) -> None:
        super().prepare(ws)
        contract = ws.root / "contract.json"  # JSON is YAML
        contract.write_text(json.dumps(CONTRACT))
        job = self.job(ws)
        assets = f"  assets: {json.dumps({'events': str(contract)})}\ntarget:\n"
        job.write_text(job.read_text().replace("target:\n", assets, 1))

    @staticmethod
    def job(ws: Workspace) -> Path:
        return ws.root / "job-contract.yaml"


def run_arms(args: argparse.Namespace) -> None:
    arms: list[Arm] = [DativoArm(args.dativo), ContractDativoArm(args.dativo)]
    if args.baseline_dativo:
        arms.append(BaselineDativoArm(args.baseline_dativo))
    result = run_section(Section("main", args.records, args.rounds), arms, warmup=0)
    base = result.median("dativo")
    print(f"## run: {args.records:,} records, {args.rounds} rounds")
    print("| arm | wall median | CPU median (process tree) | wall vs dativo | CPU vs dativo |")
    print("| --- | ---: | ---: | ---: | ---: |")
    base_cpu = statistics.median(result.arms["dativo"].cpu_s)
    for arm in arms:
        runs = result.arms[arm.name]
        wall, cpu = statistics.median(runs.seconds), statistics.median(runs.cpu_s)
        ratio = wall / base if base else float("nan")
        print(f"| {arm.name} | {wall:.2f} s | {cpu:.2f} s | {ratio:.2f}x | {cpu / base_cpu:.2f}x |")
    print(f"\nall rounds: { {a.name: result.arms[a.name].seconds for a in arms} }")


def closures(contract: AssetContract) -> Callable[[list[Any]], list[int]]:
    """The bench's hand-written alternative: one closure per field, called per record."""
    pattern = re.compile("^user_[0-9]+$").search
    known = frozenset(p.name for p in contract.schema_[0].properties)

    def timestamp(v: Any) -> bool:
        try:
            datetime.fromisoformat(v)
        except (TypeError, ValueError):
            return False
        return True

    checks: list[Callable[[dict[str, Any]], bool]] = [
        lambda d: type(d.get("id")) is int and d["id"] >= 0,
        lambda d: d.get("ts") is None or (type(d["ts"]) is str and timestamp(d["ts"])),
        lambda d: d.get("user") is None or (type(d["user"]) is str and bool(pattern(d["user"]))),
        lambda d: (
            d.get("amount") is None
            or (type(d["amount"]) in (int, float) and 0 <= d["amount"] <= 1e9)
        ),
        lambda d: d.get("tags") is None or type(d["tags"]) is list,
        lambda d: (
            d.get("payload") is None or (type(d["payload"]) is str and len(d["payload"]) <= 200)
        ),
    ]

    def failing(messages: list[Any]) -> list[int]:  # on decoded messages
        return [
            i
            for i, m in enumerate(messages)
            if not (known.issuperset(d := m["record"]) and all(check(d) for check in checks))
        ]

    return failing


Check = Callable[[list[bytes]], list[int]]  # a chunk's RECORD lines -> the failing ones


def decoded(validate: Callable[[list[Any]], list[int]]) -> Check:
    """``validate`` over the messages of one ``orjson.loads`` of the chunk."""
    return lambda lines: validate(orjson.loads(b"[" + b",".join(lines) + b"]"))


def per_record(is_valid: Callable[[Any], bool]) -> Check:
    return decoded(
        lambda messages: [i for i, m in enumerate(messages) if not is_valid(m["record"])]
    )


def validators(contract: AssetContract) -> dict[str, Check]:
    found: dict[str, Check] = {
        "dativo: msgspec typed decode": compile_checks(contract.schema_[0]).failing,
        "orjson, no checks (decoding alone)": decoded(lambda messages: []),
        "orjson + python closures": decoded(closures(contract)),
    }
    try:
        import jsonschema_rs

        validator = jsonschema_rs.validator_for(JSON_SCHEMA, validate_formats=True)
        found["orjson + jsonschema-rs"] = per_record(validator.is_valid)
    except ImportError:
        log("jsonschema-rs is not installed: that arm is left out")
    try:
        import fastjsonschema

        compiled = fastjsonschema.compile(JSON_SCHEMA)

        def valid(d: Any) -> bool:
            try:
                compiled(d)
            except fastjsonschema.JsonSchemaException:
                return False
            return True

        found["orjson + fastjsonschema"] = per_record(valid)
    except ImportError:
        log("fastjsonschema is not installed: that arm is left out")
    return found


def cpu(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.process_time()
    result = action()
    return time.process_time() - started, result


def run_validators(args: argparse.Namespace) -> None:
    data = ensure_data(args.records)
    lines = []
    with data.open("rb") as stream:
        for line in stream:
            if line.startswith(b'{"type":"RECORD"'):
                lines.append(line.rstrip(b"\n"))
                if len(lines) == args.validator_records:
                    break
    arms = validators(AssetContract.model_validate(CONTRACT))
    # as the relay sees them: a chunk's lines at a time (1 MiB is about 4,000 of these lines)
    chunks = [lines[i : i + CHUNK_LINES] for i in range(0, len(lines), CHUNK_LINES)]
    timings: dict[str, list[float]] = {name: [] for name in arms}
    names = list(arms)
    gc.disable()
    for round_no in range(args.rounds):
        shift = round_no % len(names)
        for name in names[shift:] + names[:shift]:
            check = arms[name]
            seconds, bad = cpu(lambda c=check: [c(chunk) for chunk in chunks])
            assert not any(bad), f"{name} rejects valid records"
            timings[name].append(seconds)
    count = len(lines)
    print(f"## validators: {count:,} records, {args.rounds} rounds, CPU per record (median)")
    print("| decoding and checking a chunk's records | ns per record | vs dativo |")
    print("| --- | ---: | ---: |")
    base = statistics.median(timings[names[0]])
    for name, values in timings.items():
        value = statistics.median(values)
        print(f"| {name} | {value / count * 1e9:.0f} | {value / base:.2f}x |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sections", default="run,validators")
    parser.add_argument("--validator-records", type=int, default=200_000)
    parser.add_argument("--baseline-dativo", help="another dativo build, as an extra arm")
    parser.add_argument("--dativo", default=str(Path(sys.executable).with_name("dativo")))
    args = parser.parse_args()
    sections = args.sections.split(",")
    log(f"load average before: {load_average()} on {os.cpu_count()} cores")
    if "validators" in sections:
        run_validators(args)
    if "run" in sections:
        run_arms(args)
    log(f"load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
