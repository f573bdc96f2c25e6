"""The command line: --about, --version, --config merging, --input, settings validation."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

SETTINGS = {
    "destination_path",
    "s3_endpoint_url",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_region",
    "batch_size_rows",
    "batch_size_bytes",
    "max_batch_age_seconds",
    "max_file_size_mb",
    "compression",
    "nested_as_json",
    "partition_by",
    "validate_records",
}
README = Path(__file__).resolve().parents[1] / "README.md"


def command(parquet, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([parquet.executable, *args], capture_output=True, timeout=60, check=False)


def test_about_json_describes_every_setting(parquet):
    result = command(parquet, "--about", "--format", "json")
    assert result.returncode == 0, result.stderr
    about = json.loads(result.stdout)
    assert about["name"] == "target-parquet"
    assert about["settings"]["required"] == ["destination_path"]
    assert set(about["settings"]["properties"]) == SETTINGS


def test_about_markdown_and_the_readme_list_every_setting(parquet):
    result = command(parquet, "--about")
    readme = README.read_text()
    for name in SETTINGS:
        assert f"`{name}`".encode() in result.stdout
        assert f"| `{name}` |" in readme, f"README does not document {name}"


def test_version_is_printed(parquet):
    result = command(parquet, "--version")
    assert re.fullmatch(rb"target-parquet \d+\.\d+\.\d+\n", result.stdout)


def test_config_files_merge_in_order_and_input_can_be_a_file(parquet, tmp_path):
    first = parquet.config("a.json", destination_path=str(tmp_path / "ignored"), compression="x")
    second = parquet.config("b.json", compression="snappy")
    source = tmp_path / "messages.singer"
    source.write_bytes(parquet.encode(parquet.schema(), parquet.record(id_=7), parquet.state(7)))
    result = command(
        parquet, "--config", str(first), "--config", str(second), "--input", str(source)
    )
    assert result.returncode == 0, result.stderr
    assert parquet.rows() == [{"id": 7, "name": None}]
    assert parquet.echoed(result) == [parquet.state(7)["value"]]
    assert not (tmp_path / "ignored").exists()


def test_unknown_setting_is_rejected_by_name_before_anything_is_written(parquet):
    result = parquet.run(b"", batch_size=5)
    assert result.returncode == 2
    assert b"unknown setting 'batch_size'" in result.stderr
    assert not parquet.out.exists()


def test_invalid_values_are_all_reported_by_key(parquet, tmp_path):
    config = tmp_path / "bad.json"
    config.write_text(
        json.dumps(
            {
                "batch_size_rows": "10",
                "max_batch_age_seconds": -1,
                "max_file_size_mb": 0,
                "compression": "lzma",
                "nested_as_json": "yes",
                "partition_by": [{"field": "ts", "granularity": "week"}, 3],
            }
        )
    )
    result = command(parquet, "--config", str(config))
    assert result.returncode == 2
    for expected in (
        b"missing required setting 'destination_path'",
        b"'batch_size_rows' must be of type integer",
        b"'max_batch_age_seconds' must be at least 0",
        b"'max_file_size_mb' must be greater than 0",
        b"'compression' must be one of zstd, snappy",
        b"'nested_as_json' must be of type boolean",
        b"partition_by[0].granularity must be one of year, month, day, hour",
        b"partition_by[1] must be a field name",
    ):
        assert expected in result.stderr


def test_s3_settings_need_an_s3_destination(parquet):
    result = parquet.run(b"", s3_endpoint_url="http://127.0.0.1:9000")
    assert result.returncode == 2
    assert b"'s3_endpoint_url' applies only to an s3:// destination_path" in result.stderr


def test_unsupported_destination_scheme_is_a_config_error(parquet):
    result = parquet.run(b"", destination_path="gs://bucket/x")
    assert result.returncode == 2
    assert b"unsupported scheme 'gs'" in result.stderr


def test_an_empty_stream_writes_nothing(parquet):
    result = parquet.run(b"")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b""
    assert parquet.files() == []
