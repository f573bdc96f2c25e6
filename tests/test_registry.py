"""The connector registry: validation, lookup by name, variant and alias, project overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from dativo_ingest.config import load_job
from dativo_ingest.exceptions import JobFileError
from dativo_ingest.registry import Capability, RegistryError, load_registry
from dativo_ingest.registry.loader import read_registry_file

ISSUE_ENTRIES = [
    "meltanolabs-tap-postgres",
    "tap-rest-api-msdk",
    "tap-github",
    "meltanolabs-target-csv",
    "meltanolabs-target-postgres",
    "pipelinewise-target-postgres",
]


def test_builtin_registry_has_first_party_and_pinned_community_entries():
    registry = load_registry()
    for name in ISSUE_ENTRIES:
        spec = registry.resolve(name)
        assert spec.pip_url and "==" in spec.pip_url, name
    assert registry.resolve("target-jsonl", "andyh1203").pip_url == "target-jsonl==0.1.4"
    for name in ("tap-csv", "tap-postgres", "target-jsonl", "target-postgres"):
        spec = registry.resolve(name)
        assert spec.variant == "dativo" and Path(spec.path, "pyproject.toml").is_file()


def test_variants_share_an_executable_and_are_told_apart():
    registry = load_registry()
    ours, theirs = registry.resolve("tap-postgres"), registry.resolve("tap-postgres", "meltanolabs")
    assert ours.executable == theirs.executable == "tap-postgres"
    assert theirs.has(Capability.TEST)
    with pytest.raises(
        RegistryError,
        match="has no variant 'nope'; variants: airbyte, dativo, meltanolabs, singer-io",
    ):
        registry.resolve("tap-postgres", "nope")
    with pytest.raises(RegistryError, match="no connector named 'tap-nothing'"):
        registry.resolve("tap-nothing")


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_bad_entry_names_the_entry_and_the_field(tmp_path):
    registry = write(
        tmp_path / "registry.yaml",
        """
connectors:
  - {name: tap-a, type: source, engine: singer, executable: tap-a, pip_url: tap-a==1}
  - {name: tap-b, variant: x, type: sink, engine: singer, executable: tap-b, pip_url: b}
  - {name: tap-c, type: source, engine: singer, executable: tap-c}
  - {name: tap-d, type: source, engine: singer, executable: tap-d, pip_url: d, colour: red}
""",
    )
    with pytest.raises(RegistryError) as caught:
        read_registry_file(registry)
    message = str(caught.value)
    assert (
        "entry 'tap-b' (variant 'x'): type: Input should be 'source', 'target' or 'mapper'"
        in message
    )
    assert (
        "entry 'tap-c' (variant 'default'): Value error, give exactly one of path, pip_url"
        in message
    )
    assert "entry 'tap-d' (variant 'default'): colour: Extra inputs are not permitted" in message
    assert "tap-a" not in message


def test_project_registry_overrides_builtin_entries(tmp_path):
    jobs = tmp_path / "jobs" / "acme"
    jobs.mkdir(parents=True)
    write(
        tmp_path / "registry.yaml",
        """
connectors:
  - {name: target-jsonl, variant: dativo, default: true, type: target, engine: singer,
     executable: target-jsonl, pip_url: my-fork-of-target-jsonl==2.0}
""",
    )
    write(
        jobs / "registry.yaml",
        """
connectors:
  - {name: tap-internal, type: source, engine: singer, executable: tap-internal,
     pip_url: "tap-internal @ git+https://example.com/tap-internal"}
""",
    )
    job = write(
        jobs / "job.yaml",
        """
tenant_id: acme
name: internal
source: {connector: tap-internal}
target: {connector: target-jsonl, config: {destination_path: out}}
""",
    )
    loaded = load_job(job, {}, load_registry(job, tmp_path))
    assert loaded.source.spec.pip_url == "tap-internal @ git+https://example.com/tap-internal"
    assert loaded.target.spec.pip_url == "my-fork-of-target-jsonl==2.0"


def test_job_naming_an_unknown_connector_or_wrong_side_is_refused(tmp_path):
    job = write(
        tmp_path / "job.yaml",
        """
tenant_id: acme
name: x
source: {connector: target-jsonl}
target: {connector: target-nothing}
""",
    )
    with pytest.raises(JobFileError) as caught:
        load_job(job, {})
    message = str(caught.value)
    assert "source.connector: target-jsonl (dativo) is a target, not a source" in message
    assert "target.connector: no connector named 'target-nothing'" in message


def test_connector_and_executable_are_exclusive(tmp_path):
    job = write(
        tmp_path / "job.yaml",
        """
tenant_id: acme
name: x
source: {connector: tap-csv, executable: tap-csv}
target: {variant: dativo}
""",
    )
    with pytest.raises(JobFileError) as caught:
        load_job(job, {})
    message = str(caught.value)
    assert "source: Value error, give `connector`, or `executable`" in message
    assert "target: Value error, name the connector with `connector:`" in message
