"""target-jsonl's command line: --about, --version, --config merging and checking, --input."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

SETTINGS = {
    "destination_path",
    "compression",
    "max_file_size_mb",
    "batch_size_rows",
    "batch_size_bytes",
    "max_batch_age_seconds",
    "add_record_metadata",
    "validate_records",
}


def run(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(arg) for arg in args], capture_output=True, timeout=60, check=False)


def test_about_json_describes_every_setting_and_capability(jsonl):
    result = run(jsonl.executable, "--about", "--format", "json")
    assert result.returncode == 0, result.stderr
    about = json.loads(result.stdout)
    assert about["name"] == "target-jsonl"
    assert set(about["capabilities"]) == {"about", "batch", "test", "validate-records"}
    assert about["settings"]["required"] == ["destination_path"]
    assert set(about["settings"]["properties"]) == SETTINGS
    defaults = {k: v.get("default") for k, v in about["settings"]["properties"].items()}
    assert defaults["batch_size_rows"] == 100000
    assert defaults["max_batch_age_seconds"] == 30
    assert defaults["validate_records"] is False


def test_about_markdown_and_readme_document_every_setting(jsonl):
    result = run(jsonl.executable, "--about")
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for name in SETTINGS:
        assert f"`{name}`".encode() in result.stdout
        assert f"| `{name}` |" in readme


def test_version_is_printed(jsonl):
    result = run(jsonl.executable, "--version")
    assert result.returncode == 0
    assert result.stdout.startswith(b"target-jsonl 0.")


def test_start_up_is_fast(jsonl):
    """--about and an empty stream each take well under a second (about 50 ms here)."""
    config = jsonl.config()
    for args in (["--about"], ["--config", str(config)]):
        started = time.perf_counter()
        result = subprocess.run(
            [jsonl.executable, *args], input=b"", capture_output=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stderr
        assert time.perf_counter() - started < 1.0


def test_unknown_config_key_is_rejected_by_name_before_touching_the_folder(jsonl):
    result = jsonl.run(b"", batch_size=5)
    assert result.returncode == 2
    assert b"ConfigurationError" in result.stderr
    assert b"unknown setting 'batch_size'" in result.stderr
    assert not jsonl.out.exists()


def test_every_invalid_value_is_reported_by_key(jsonl, tmp_path: Path):
    config = tmp_path / "bad.json"
    config.write_text(
        json.dumps(
            {
                "batch_size_rows": "10",
                "max_batch_age_seconds": -1,
                "compression": "zip",
                "max_file_size_mb": 0,
                "validate_records": "yes",
                "add_record_metadata": 1,
            }
        )
    )
    jsonl.assert_failed(
        run(jsonl.executable, "--config", config),
        2,
        "missing required setting 'destination_path'",
        "'batch_size_rows' must be of type integer",
        "'max_batch_age_seconds' must be at least 0",
        "'compression' must be one of ['none', 'gzip']",
        "'max_file_size_mb' must be greater than 0",
        "'validate_records' must be of type boolean",
        "'add_record_metadata' must be of type boolean",
    )


def test_config_that_is_not_json_is_named(jsonl, tmp_path: Path):
    config = tmp_path / "broken.json"
    config.write_text("{destination_path: out")
    result = run(jsonl.executable, "--config", config)
    assert result.returncode == 2
    assert str(config).encode() in result.stderr


def test_config_files_merge_in_order(jsonl, tmp_path: Path):
    first = jsonl.config("a.json", destination_path=str(tmp_path / "ignored"), compression="gzip")
    second = jsonl.config("b.json", compression="none")
    stdin = jsonl.encode(jsonl.schema(), jsonl.record())
    result = subprocess.run(
        [jsonl.executable, "--config", str(first), "--config", str(second)],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert [path.suffix for path in jsonl.published("users")] == [".jsonl"]
    assert not (tmp_path / "ignored").exists()


def test_input_can_come_from_a_file(jsonl, tmp_path: Path):
    source = tmp_path / "messages.singer"
    source.write_bytes(jsonl.encode(jsonl.schema(), jsonl.record(id_=7), jsonl.state(7)))
    result = jsonl.run(b"", "--input", str(source))
    assert result.returncode == 0, result.stderr
    assert jsonl.rows("users") == [{"id": 7}]
    assert jsonl.echoed(result) == [jsonl.state(7)["value"]]


def test_test_mode_fails_when_a_file_is_in_the_way(jsonl, tmp_path: Path):
    (tmp_path / "file").write_text("")
    result = jsonl.run(b"", "--test", destination_path=str(tmp_path / "file" / "out"))
    jsonl.assert_failed(result, 2, "is not a folder")
