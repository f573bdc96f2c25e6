"""target-jsonl run as a real program: files, durable STATE echoes, bad input, settings."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest


@pytest.fixture
def target(connector_exe) -> str:
    return connector_exe("target-jsonl")


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "out"


def configure(tmp_path: Path, name: str = "target.json", **settings: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(settings))
    return path


def schema(stream: str) -> dict:
    props = {"id": {"type": "integer"}, "name": {"type": ["string", "null"]}}
    return {
        "type": "SCHEMA",
        "stream": stream,
        "schema": {"properties": props},
        "key_properties": ["id"],
    }


def record(stream: str, id_: int, name: str | None = "x") -> dict:
    return {"type": "RECORD", "stream": stream, "record": {"id": id_, "name": name}}


def state(position: int) -> dict:
    return {"type": "STATE", "value": {"bookmarks": {"users": {"id": position}}}}


def singer(*messages: dict) -> bytes:
    return b"".join(
        json.dumps(message, ensure_ascii=False).encode() + b"\n" for message in messages
    )


def run(target: str, config: Path, stdin: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [target, "--config", str(config), *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def echoed(result: subprocess.CompletedProcess[bytes]) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_records_land_in_one_file_per_stream_exactly(target: str, tmp_path: Path, out: Path):
    config = configure(tmp_path, destination_path=str(out))
    nested = {"id": 3, "tags": ["a", "é"], "amount": 12.5, "meta": {"ok": True, "none": None}}
    stream = singer(
        schema("users"),
        schema("orders"),
        record("users", 1, "Ada"),
        record("orders", 2, None),
        {"type": "RECORD", "stream": "orders", "record": nested},
        {"type": "ACTIVATE_VERSION", "stream": "orders", "version": 1},
        record("users", 4, "Grace"),
    )
    result = run(target, config, stream)
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in out.iterdir()) == ["orders.jsonl", "users.jsonl"]
    assert lines(out / "users.jsonl") == [{"id": 1, "name": "Ada"}, {"id": 4, "name": "Grace"}]
    assert lines(out / "orders.jsonl") == [{"id": 2, "name": None}, nested]
    assert b"warning" not in result.stderr


def test_last_state_is_echoed_at_the_end(target: str, tmp_path: Path, out: Path):
    config = configure(tmp_path, destination_path=str(out))
    result = run(
        target,
        config,
        singer(schema("users"), record("users", 1), state(1), record("users", 2), state(2)),
    )
    assert result.returncode == 0, result.stderr
    assert echoed(result) == [state(2)["value"]]


def test_state_is_echoed_only_once_its_records_are_on_disk(target: str, tmp_path: Path, out: Path):
    config = configure(tmp_path, destination_path=str(out), batch_size_rows=2)
    with subprocess.Popen(
        [target, "--config", str(config)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(
            singer(schema("users"), record("users", 1), record("users", 2), state(2))
        )
        process.stdin.flush()
        first = process.stdout.readline()  # blocks until the target echoes
        on_disk = lines(out / "users.jsonl")
        process.stdin.close()
        assert process.wait(timeout=60) == 0
    assert json.loads(first) == state(2)["value"]
    assert on_disk == [{"id": 1, "name": "x"}, {"id": 2, "name": "x"}]


def test_small_batches_echo_several_states_in_order(target: str, tmp_path: Path, out: Path):
    config = configure(
        tmp_path, destination_path=str(out), batch_size_rows=2, max_batch_age_seconds=3600
    )
    messages = [schema("users")]
    for position in range(1, 6):
        messages += [record("users", position), state(position)]
    result = run(target, config, singer(*messages))
    assert result.returncode == 0, result.stderr
    assert echoed(result) == [state(2)["value"], state(4)["value"], state(5)["value"]]


def test_zero_batch_age_echoes_every_state(target: str, tmp_path: Path, out: Path):
    config = configure(tmp_path, destination_path=str(out), max_batch_age_seconds=0)
    result = run(target, config, singer(schema("users"), state(0), record("users", 1), state(1)))
    assert echoed(result) == [state(0)["value"], state(1)["value"]]


def test_no_state_means_nothing_on_stdout(target: str, tmp_path: Path, out: Path):
    config = configure(tmp_path, destination_path=str(out))
    result = run(target, config, singer(schema("users"), record("users", 1)))
    assert result.returncode == 0, result.stderr
    assert result.stdout == b""
    assert lines(out / "users.jsonl") == [{"id": 1, "name": "x"}]


def test_successive_runs_append(target: str, tmp_path: Path, out: Path):
    config = configure(tmp_path, destination_path=str(out))
    run(target, config, singer(schema("users"), record("users", 1)))
    run(target, config, singer(schema("users"), record("users", 2)))
    assert [row["id"] for row in lines(out / "users.jsonl")] == [1, 2]


def test_malformed_line_fails_with_its_number_after_saving_what_came_before(
    target: str, tmp_path: Path, out: Path
):
    config = configure(tmp_path, destination_path=str(out), max_batch_age_seconds=3600)
    good = singer(schema("users"), record("users", 1), state(1), record("users", 2))
    result = run(target, config, good + b'{"type": "RECORD", "stream":\n' + singer(state(2)))
    assert result.returncode != 0
    assert b"input line 5" in result.stderr
    assert b"not valid JSON" in result.stderr
    assert lines(out / "users.jsonl") == [{"id": 1, "name": "x"}, {"id": 2, "name": "x"}]
    assert echoed(result) == [state(1)["value"]]


def test_record_before_schema_fails_naming_stream_and_line(target: str, tmp_path: Path, out: Path):
    config = configure(tmp_path, destination_path=str(out))
    result = run(target, config, singer(schema("users"), record("orders", 1)))
    assert result.returncode != 0
    assert b"input line 2" in result.stderr
    assert b"'orders'" in result.stderr
    assert b"before its SCHEMA" in result.stderr


def test_message_without_type_fails_with_line_number(target: str, tmp_path: Path, out: Path):
    config = configure(tmp_path, destination_path=str(out))
    result = run(target, config, singer(schema("users"), {"stream": "users", "record": {}}))
    assert result.returncode != 0
    assert b'input line 2: message has no "type"' in result.stderr


def test_unknown_type_warns_once_and_succeeds(target: str, tmp_path: Path, out: Path):
    config = configure(tmp_path, destination_path=str(out))
    odd = {"type": "SOMETHING_NEW", "stream": "users"}
    result = run(target, config, singer(schema("users"), odd, record("users", 1), odd))
    assert result.returncode == 0, result.stderr
    assert result.stderr.count(b"warning") == 1
    assert b"SOMETHING_NEW" in result.stderr
    assert lines(out / "users.jsonl") == [{"id": 1, "name": "x"}]


def test_stream_name_that_escapes_the_folder_is_rejected(target: str, tmp_path: Path, out: Path):
    config = configure(tmp_path, destination_path=str(out))
    result = run(target, config, singer(schema("../users")))
    assert result.returncode != 0
    assert b"'../users'" in result.stderr


def test_a_50_mb_record_passes_intact(target: str, tmp_path: Path, out: Path):
    config = configure(tmp_path, destination_path=str(out))
    big = {"id": 1, "name": "é" * 25_000_000}  # 50 MB of UTF-8 on one line
    result = run(
        target,
        config,
        singer(schema("users"), {"type": "RECORD", "stream": "users", "record": big}, state(1)),
    )
    assert result.returncode == 0, result.stderr
    assert lines(out / "users.jsonl") == [big]
    assert echoed(result) == [state(1)["value"]]


def test_input_can_come_from_a_file(target: str, tmp_path: Path, out: Path):
    config = configure(tmp_path, destination_path=str(out))
    source = tmp_path / "messages.singer"
    source.write_bytes(singer(schema("users"), record("users", 7), state(7)))
    result = run(target, config, b"", "--input", str(source))
    assert result.returncode == 0, result.stderr
    assert lines(out / "users.jsonl") == [{"id": 7, "name": "x"}]
    assert echoed(result) == [state(7)["value"]]


def test_about_json_describes_the_settings(target: str):
    result = subprocess.run(
        [target, "--about", "--format", "json"], capture_output=True, timeout=60, check=True
    )
    about = json.loads(result.stdout)
    assert about["name"] == "target-jsonl"
    assert "about" in about["capabilities"]
    assert about["settings"]["required"] == ["destination_path"]
    assert set(about["settings"]["properties"]) == {
        "destination_path",
        "batch_size_rows",
        "max_batch_age_seconds",
    }


def test_version_is_printed(target: str):
    result = subprocess.run([target, "--version"], capture_output=True, timeout=60, check=True)
    assert result.stdout.startswith(b"target-jsonl ")


def test_about_markdown_lists_every_setting(target: str):
    result = subprocess.run([target, "--about"], capture_output=True, timeout=60, check=True)
    for name in ("destination_path", "batch_size_rows", "max_batch_age_seconds"):
        assert f"`{name}`".encode() in result.stdout


def test_unknown_config_key_is_rejected_by_name(target: str, tmp_path: Path, out: Path):
    config = configure(tmp_path, destination_path=str(out), batch_size=5)
    result = run(target, config, b"")
    assert result.returncode != 0
    assert b"unknown setting 'batch_size'" in result.stderr
    assert not out.exists()


def test_invalid_values_are_reported_by_key(target: str, tmp_path: Path):
    config = configure(tmp_path, batch_size_rows="10", max_batch_age_seconds=-1)
    result = run(target, config, b"")
    assert result.returncode != 0
    for key in (b"destination_path", b"batch_size_rows", b"max_batch_age_seconds"):
        assert key in result.stderr


def test_config_files_merge_in_order(target: str, tmp_path: Path, out: Path):
    first = configure(tmp_path, "a.json", destination_path=str(tmp_path / "ignored"))
    second = configure(tmp_path, "b.json", destination_path=str(out))
    result = run(
        target, first, singer(schema("users"), record("users", 1)), "--config", str(second)
    )
    assert result.returncode == 0, result.stderr
    assert (out / "users.jsonl").exists()
    assert not (tmp_path / "ignored").exists()
