"""Airbyte sources and destinations: real airbyte-source-faker from PyPI, and small protocol
programs for errors, CONTROL messages and an Airbyte destination."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

PROGRAMS = Path(__file__).parent / "programs"
FAKE_SOURCE = str(PROGRAMS / "fake_airbyte_source.py")
FAKE_DESTINATION = str(PROGRAMS / "fake_airbyte_destination.py")
FAKE_TAP = str(PROGRAMS / "fake_tap.py")


def write_job(path: Path, source: dict, target: dict) -> Path:
    path.write_text(
        yaml.safe_dump({"tenant_id": "acme", "name": "ab", "source": source, "target": target})
    )
    return path


def rows(folder: Path, stream: str) -> list[dict]:
    return [
        json.loads(line)
        for file in sorted(folder.glob(f"{stream}*.jsonl"))
        for line in file.read_text().splitlines()
    ]


def stored(dativo) -> dict:
    result = dativo("state", "get", "acme/ab")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def faker(tmp_path, pypi_connector) -> Path:
    """The real source-faker behind a wrapper that keeps a copy of the --state it gets."""
    real = pypi_connector("airbyte-source-faker==7.2.1", "source-faker")
    wrapper = tmp_path / "source-faker"
    wrapper.write_text(f"""#!/bin/sh
previous=""
for argument in "$@"; do
  [ "$previous" = "--state" ] && cp "$argument" "{tmp_path}/state-given.json"
  previous="$argument"
done
exec {real} "$@"
""")
    wrapper.chmod(0o755)
    return wrapper


def test_faker_into_target_jsonl_state_per_stream_and_selection(tmp_path, faker, dativo):
    out = tmp_path / "out"
    source = {"executable": str(faker), "protocol": "airbyte", "config": {"count": 500, "seed": 1}}
    target = {"connector": "target-jsonl", "config": {"destination_path": str(out)}}
    job = write_job(tmp_path / "job.yaml", source, target)

    first = dativo("run", job, timeout=600)
    assert first.returncode == 0, first.stderr
    assert (len(rows(out, "users")), len(rows(out, "purchases")), len(rows(out, "products"))) == (
        500,
        500,
        100,
    )
    state = stored(dativo)["airbyte"]["streams"]
    assert set(state) == {"users", "purchases", "products"}
    assert "reported" not in first.stderr  # the source's counts match dativo's
    assert "stream status: products COMPLETE, purchases COMPLETE, users COMPLETE" in first.stderr

    second = dativo("run", job, timeout=600)
    assert second.returncode == 0, second.stderr
    given = json.loads((tmp_path / "state-given.json").read_text())
    assert sorted(m["stream"]["stream_descriptor"]["name"] for m in given) == [
        "products",
        "purchases",
        "users",
    ]
    assert all(m["type"] == "STREAM" for m in given)
    assert {
        m["stream"]["stream_descriptor"]["name"]: m["stream"]["stream_state"] for m in given
    } == {name: s["stream_state"] for name, s in state.items()}

    before = stored(dativo)["airbyte"]["streams"]
    counts = {name: len(rows(out, name)) for name in ("users", "purchases", "products")}
    only_users = write_job(tmp_path / "job.yaml", {**source, "select": ["users"]}, target)
    third = dativo("run", only_users, timeout=600)
    assert third.returncode == 0, third.stderr
    assert len(rows(out, "purchases")) == counts["purchases"]
    assert len(rows(out, "products")) == counts["products"]
    after = stored(dativo)["airbyte"]["streams"]
    assert after["purchases"] == before["purchases"] and after["products"] == before["products"]
    assert after["users"] != before["users"]


def test_trace_error_fails_the_run_with_its_message(tmp_path, dativo):
    source = {
        "executable": FAKE_SOURCE,
        "protocol": "airbyte",
        "config": {"trace_error": "the API key was revoked"},
    }
    job = write_job(
        tmp_path / "job.yaml",
        source,
        {"connector": "target-jsonl", "config": {"destination_path": str(tmp_path)}},
    )
    result = dativo("run", job)
    assert result.returncode == 1
    assert (
        "reported an error (config_error, not retryable): the API key was revoked" in result.stderr
    )


def test_control_message_updates_the_config_of_the_next_run(tmp_path, dativo):
    seen = tmp_path / "config-seen.json"
    source = {
        "executable": FAKE_SOURCE,
        "protocol": "airbyte",
        "config": {
            "api_token": "old-token-1",
            "config_copy": str(seen),
            "control": {"api_token": "new-token-2", "config_copy": str(seen)},
        },
    }
    job = write_job(
        tmp_path / "job.yaml",
        source,
        {"connector": "target-jsonl", "config": {"destination_path": str(tmp_path)}},
    )
    first = dativo("run", job)
    assert first.returncode == 0, first.stderr
    assert json.loads(seen.read_text())["api_token"] == "old-token-1"
    second = dativo("run", job)
    assert second.returncode == 0, second.stderr
    assert json.loads(seen.read_text())["api_token"] == "new-token-2"
    assert "new-token-2" not in first.stderr + second.stderr


def test_singer_tap_into_airbyte_destination_keeps_the_confirmed_state(tmp_path, dativo):
    catalog = tmp_path / "catalog.json"
    catalog.write_text(
        json.dumps(
            {
                "streams": [
                    {
                        "tap_stream_id": "items",
                        "stream": "items",
                        "key_properties": ["id"],
                        "schema": {"type": "object", "properties": {"id": {"type": "integer"}}},
                        "metadata": [{"breadcrumb": [], "metadata": {"selected": True}}],
                    }
                ]
            }
        )
    )
    handed = tmp_path / "state-given.json"
    source = {
        "executable": FAKE_TAP,
        "catalog": str(catalog),
        "config": {"records": 30, "state_every": 10, "state_copy": str(handed)},
    }
    target = {
        "executable": FAKE_DESTINATION,
        "protocol": "airbyte",
        "config": {"destination_path": str(tmp_path / "out")},
    }
    job = write_job(tmp_path / "job.yaml", source, target)
    first = dativo("run", job)
    assert first.returncode == 0, first.stderr
    assert [r["id"] for r in rows(tmp_path / "out", "items")] == list(range(1, 31))
    assert stored(dativo) == {"bookmarks": {"items": {"last_id": 30}}}
    runs = json.loads(dativo("runs", "--json", "--limit", "1").stdout)
    assert runs[0]["states_saved"] == 4  # every STATE echoed by the destination was kept
    second = dativo("run", job)
    assert second.returncode == 0, second.stderr
    assert json.loads(handed.read_text()) == {"bookmarks": {"items": {"last_id": 30}}}


def test_airbyte_source_into_airbyte_destination_merges_stream_states(tmp_path, dativo):
    source = {
        "executable": FAKE_SOURCE,
        "protocol": "airbyte",
        "config": {"streams": ["a", "b"], "records": 4},
    }
    target = {
        "executable": FAKE_DESTINATION,
        "protocol": "airbyte",
        "config": {"destination_path": str(tmp_path / "out")},
    }
    job = write_job(tmp_path / "job.yaml", source, target)
    assert dativo("run", job).returncode == 0
    assert len(rows(tmp_path / "out", "a")) == len(rows(tmp_path / "out", "b")) == 4
    only_a = write_job(tmp_path / "job.yaml", {**source, "select": ["a"]}, target)
    result = dativo("run", only_a)
    assert result.returncode == 0, result.stderr
    streams = stored(dativo)["airbyte"]["streams"]
    assert streams["a"]["stream_state"] == {"last_id": 8}
    assert streams["b"]["stream_state"] == {"last_id": 4}
    assert [r["id"] for r in rows(tmp_path / "out", "a")] == list(range(1, 9))


def test_failing_airbyte_destination_fails_the_run_and_keeps_earlier_states(tmp_path, dativo):
    source = {
        "executable": FAKE_SOURCE,
        "protocol": "airbyte",
        "config": {"streams": ["a", "b"], "records": 4},
    }
    target = {
        "executable": FAKE_DESTINATION,
        "protocol": "airbyte",
        "config": {"destination_path": str(tmp_path / "out"), "fail_after": 5},
    }
    result = dativo("run", write_job(tmp_path / "job.yaml", source, target))
    assert result.returncode == 1
    assert "fake_airbyte_destination.py failed with exit code 3" in result.stderr
    assert stored(dativo)["airbyte"]["streams"]["a"]["stream_state"] == {"last_id": 4}


def test_check_uses_the_airbyte_check_command(tmp_path, dativo):
    target = {"connector": "target-jsonl", "config": {"destination_path": str(tmp_path)}}
    faker = write_job(tmp_path / "faker.yaml", {"connector": "source-faker", "config": {}}, target)
    result = dativo("check", faker, timeout=600)
    assert result.returncode == 1  # faker's check needs `count`: its TRACE error is shown
    assert "FAIL  source source-faker" in result.stdout and "('count')" in result.stdout
    faker = write_job(
        tmp_path / "faker.yaml", {"connector": "source-faker", "config": {"count": 10}}, target
    )
    result = dativo("check", faker, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS  source source-faker: connection check succeeded" in result.stdout
    failing = write_job(
        tmp_path / "failing.yaml",
        {
            "executable": FAKE_SOURCE,
            "protocol": "airbyte",
            "config": {"check_fails": "host db.example.com unreachable"},
        },
        target,
    )
    result = dativo("check", failing)
    assert result.returncode == 1
    assert "FAIL  source fake_airbyte_source.py" in result.stdout
    assert "host db.example.com unreachable" in result.stdout
