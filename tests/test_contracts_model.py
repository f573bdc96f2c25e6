"""Contract files (ODCS v3.1 subset) and a job's ``source.assets``: what loads, and bad input
refused with the file, the key path and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from dativo_ingest.config import load_job
from dativo_ingest.contracts.model import ContractFileError, Enforcement, load_contract
from dativo_ingest.exceptions import JobFileError
from tests.conftest import FAKE_TAP, FAKE_TARGET

ORDERS = """
apiVersion: v3.1.0
kind: DataContract
id: tap-postgres-orders
version: 1.0.0
status: active
schema:
  - name: orders
    logicalType: object
    physicalName: public.orders
    properties:
      - name: id
        logicalType: integer
        physicalType: bigint
        required: true
        primaryKey: true
        unique: true
      - name: status
        logicalType: string
        logicalTypeOptions: {pattern: '^[a-z]+$', minLength: 1, maxLength: 20}
        quality:
          - {type: library, metric: invalidValues, arguments: {validValues: [new, paid]}, mustBe: 0}
          - {type: library, metric: nullValues, mustBe: 0}
      - name: amount
        logicalType: number
        logicalTypeOptions: {minimum: 0, maximum: 1000000}
    customProperties:
      - property: dativo.enforcement
        value: {new_columns: discard_value}
customProperties:
  - property: dativo.enforcement
    value: {new_streams: freeze, rule_violation: discard_row}
"""


def contract_file(tmp_path: Path, text: str = ORDERS, name: str = "orders.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str) -> str:
    path = contract_file(tmp_path, text)
    with pytest.raises(ContractFileError) as caught:
        load_contract(path)
    assert str(path) in str(caught.value)
    return str(caught.value)


def test_contract_loads_with_modes_layered_stream_contract_default(tmp_path: Path) -> None:
    contract = load_contract(contract_file(tmp_path))
    assert contract.label == "tap-postgres-orders@1.0.0"
    orders = contract.stream("orders")
    assert orders is not None and [p.name for p in orders.properties] == ["id", "status", "amount"]
    assert orders.properties[1].quality[0].per_record
    assert contract.stream_enforcement(orders) == Enforcement(
        new_streams="freeze",  # the contract's
        new_columns="discard_value",  # the stream's own
        type_mismatch="freeze",  # the default
        rule_violation="discard_row",  # the contract's
    )


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    message = problems(tmp_path, "id: x\nschema: [unclosed\n")
    assert "line 3" in message and "invalid YAML" in message


def test_bad_logical_type_names_its_key_path(tmp_path: Path) -> None:
    message = problems(tmp_path, ORDERS.replace("logicalType: number", "logicalType: money"))
    assert "schema[0].properties[2].logicalType: Input should be" in message


def test_unknown_key_names_its_key_path(tmp_path: Path) -> None:
    message = problems(tmp_path, ORDERS.replace("required: true", "requred: true"))
    assert "schema[0].properties[0].requred: unknown key (did you mean 'required'?)" in message


def test_option_foreign_to_the_logical_type_is_refused(tmp_path: Path) -> None:
    message = problems(tmp_path, ORDERS.replace("{minimum: 0, maximum: 1000000}", "{maxLength: 3}"))
    assert "schema[0].properties[2]: logicalTypeOptions: maxLength not valid for number" in message


def test_discard_value_is_not_a_mode_for_new_streams(tmp_path: Path) -> None:
    message = problems(
        tmp_path, ORDERS.replace("new_streams: freeze", "new_streams: discard_value")
    )
    assert "customProperties[0]: value: new_streams: discard_value applies to values" in message


def test_unknown_mode_and_missing_id_are_both_reported(tmp_path: Path) -> None:
    text = ORDERS.replace("id: tap-postgres-orders\n", "").replace("discard_row}", "skip}")
    message = problems(tmp_path, text)
    assert "id: required key is missing" in message
    assert "customProperties[0]: value.rule_violation: Input should be 'evolve'," in message


def test_duplicate_property_is_refused(tmp_path: Path) -> None:
    message = problems(tmp_path, ORDERS.replace("- name: amount", "- name: status"))
    assert "schema[0]: properties named more than once: status" in message


JOB = f"""
tenant_id: acme
name: orders
source:
  executable: {FAKE_TAP}
  config: {{records: 1}}
  assets: ASSETS
target:
  executable: {FAKE_TARGET}
"""


def job_with(tmp_path: Path, assets: str) -> Path:
    (tmp_path / "dativo.yaml").write_text("{}\n")
    jobs = tmp_path / "jobs"
    jobs.mkdir(exist_ok=True)
    path = jobs / "orders.yaml"
    path.write_text(JOB.replace("ASSETS", assets))
    return path


def job_problems(tmp_path: Path, assets: str) -> str:
    with pytest.raises(JobFileError) as caught:
        load_job(job_with(tmp_path, assets), {})
    return str(caught.value)


def test_assets_mapping_is_relative_to_the_project_root(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    contract_file(tmp_path / "assets")
    job = load_job(job_with(tmp_path, "{orders: assets/orders.yaml}"), {})
    assert job.contracts["orders"].id == "tap-postgres-orders"


def test_assets_folder_covers_every_stream_of_its_files(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    contract_file(tmp_path / "assets")
    other = ORDERS.replace("id: tap-postgres-orders", "id: users").replace(
        "name: orders", "name: users"
    )
    contract_file(tmp_path / "assets", other, "users.yml")
    job = load_job(job_with(tmp_path, "assets"), {})
    assert {s: c.id for s, c in job.contracts.items()} == {
        "orders": "tap-postgres-orders",
        "users": "users",
    }


def test_assets_stream_missing_from_the_contract(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    contract_file(tmp_path / "assets")
    message = job_problems(tmp_path, "{users: assets/orders.yaml}")
    assert (
        "source.assets.users: assets/orders.yaml: its schema has no object 'users' (orders)"
        in message
    )


def test_assets_bad_contract_is_reported_in_the_job_file(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    bad = contract_file(
        tmp_path / "assets", ORDERS.replace("logicalType: number", "logicalType: money")
    )
    message = job_problems(tmp_path, "{orders: assets/orders.yaml}")
    assert f"source.assets.orders: {bad}: schema[0].properties[2].logicalType" in message
    missing = job_problems(tmp_path, "{orders: assets/nothing.yaml}")
    assert "source.assets.orders" in missing and "cannot read the file" in missing


def test_assets_folder_problems(tmp_path: Path) -> None:
    assert "source.assets: folder not found" in job_problems(tmp_path, "nowhere")
    (tmp_path / "assets").mkdir()
    assert "no *.yaml contract" in job_problems(tmp_path, "assets")
    contract_file(tmp_path / "assets")
    contract_file(tmp_path / "assets", ORDERS.replace("id: tap-postgres-orders", "id: b"), "b.yaml")
    assert "stream 'orders' is in two contracts: b.yaml and orders.yaml" in job_problems(
        tmp_path, "assets"
    )
