"""S3 destinations, against a real S3-protocol server on the loopback: moto's server, installed
from PyPI into its own environment (no MinIO binary can be fetched here)."""

from __future__ import annotations

import datetime as dt
import typing as t

import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pytest

from dativo_connector_kit.testing.s3 import MOTO, free_port, moto_server

CREDENTIALS = {
    "aws_access_key_id": "test-key",
    "aws_secret_access_key": "test-secret",
    "aws_region": "us-east-1",
}


@pytest.fixture(scope="module")
def s3_endpoint(pypi_connector) -> t.Iterator[str]:
    """An S3 server accepting any credentials, with the bucket ``lake``."""
    with moto_server(pypi_connector(*MOTO)) as endpoint:
        _filesystem(endpoint, allow_bucket_creation=True).create_dir("lake")
        yield endpoint


def _filesystem(endpoint: str, **options: t.Any) -> pafs.S3FileSystem:
    return pafs.S3FileSystem(
        access_key=CREDENTIALS["aws_access_key_id"],
        secret_key=CREDENTIALS["aws_secret_access_key"],
        region=CREDENTIALS["aws_region"],
        endpoint_override=endpoint.removeprefix("http://"),
        scheme="http",
        **options,
    )


def test_files_land_in_the_bucket_partitioned_and_readable(parquet, s3_endpoint: str):
    props = {"id": {"type": "integer"}, "ts": {"type": "string", "format": "date-time"}}
    stream = parquet.encode(
        parquet.schema(**props),
        *(
            parquet.record(id_=index, ts=f"2024-01-0{1 + index % 2}T00:00:00Z")
            for index in range(1, 5)
        ),
        parquet.state(4),
    )
    result = parquet.run(
        stream,
        destination_path="s3://lake/raw/run1",
        s3_endpoint_url=s3_endpoint,
        partition_by=[{"field": "ts", "granularity": "day"}],
        **CREDENTIALS,
    )
    assert result.returncode == 0, result.stderr
    assert parquet.echoed(result) == [parquet.state(4)["value"]]
    filesystem = _filesystem(s3_endpoint)
    objects = [
        info.path
        for info in filesystem.get_file_info(pafs.FileSelector("lake/raw/run1", recursive=True))
        if info.type == pafs.FileType.File
    ]
    assert len(objects) == 2
    assert all(path.startswith("lake/raw/run1/users/ts_date=2024-01-0") for path in objects)
    table = ds.dataset("lake/raw/run1/users", filesystem=filesystem, partitioning="hive").to_table()
    rows = sorted(table.to_pylist(), key=lambda row: row["id"])
    assert [row["id"] for row in rows] == [1, 2, 3, 4]
    assert rows[0]["ts"] == dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    assert rows[0]["ts_date"] == "2024-01-02"
    assert not parquet.out.exists()  # nothing local


def test_a_missing_bucket_is_a_config_error(parquet, s3_endpoint: str):
    result = parquet.run(
        b"", destination_path="s3://no-such-bucket/x", s3_endpoint_url=s3_endpoint, **CREDENTIALS
    )
    assert result.returncode == 2
    assert b"S3 bucket 'no-such-bucket' does not exist" in result.stderr


def test_an_unreachable_endpoint_is_a_connection_error(parquet):
    result = parquet.run(
        b"",
        destination_path="s3://lake/x",
        s3_endpoint_url=f"http://127.0.0.1:{free_port()}",
        **CREDENTIALS,
    )
    assert result.returncode == 3
    assert b"ConnectionError: cannot reach the destination" in result.stderr


def test_refused_credentials_are_an_authentication_error(parquet, pypi_connector):
    with moto_server(pypi_connector(*MOTO), INITIAL_NO_AUTH_ACTION_COUNT="0") as endpoint:
        result = parquet.run(
            b"", destination_path="s3://lake/x", s3_endpoint_url=endpoint, **CREDENTIALS
        )
    assert result.returncode == 4
    assert b"AuthenticationError: access refused" in result.stderr
