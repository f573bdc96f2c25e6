"""Catalogs and warehouses: the SQL catalog on Postgres (a database of its own on the test
server), an S3 warehouse on a real S3-protocol server (moto's, from PyPI, as target-parquet's S3
tests use), and `--test`/config errors."""

from __future__ import annotations

import os
import typing as t

import pyarrow.fs as pafs
import pytest

from dativo_connector_kit.testing.s3 import MOTO, moto_server

S3 = {"aws_access_key_id": "test-key", "aws_secret_access_key": "test-secret"}
S3_REGION = "us-east-1"


@pytest.fixture
def pg_database(pg_dsn: str) -> t.Iterator[str]:
    """A fresh database (name) on the test server, dropped afterwards."""
    import psycopg

    name = f"iceberg_{os.urandom(4).hex()}"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _pg_uri(dsn: str, database: str, driver: str) -> str:
    parts = dict(part.split("=", 1) for part in dsn.split())
    password = f":{parts['password']}" if "password" in parts else ""
    host = f"{parts.get('host', '127.0.0.1')}:{parts.get('port', '5432')}"
    return f"postgresql+{driver}://{parts.get('user', 'postgres')}{password}@{host}/{database}"


def test_sql_catalog_on_postgres(iceberg, pg_dsn: str, pg_database: str):
    catalog = {"type": "sql", "uri": _pg_uri(pg_dsn, pg_database, "psycopg2")}
    stream = iceberg.encode(
        iceberg.schema(), *(iceberg.record(id_=index) for index in (1, 2)), iceberg.state(2)
    )
    result = iceberg.run(stream, catalog=catalog, namespace="raw")
    assert result.returncode == 0, result.stderr.decode()
    assert iceberg.echoed(result) == [iceberg.state(2)["value"]]
    assert not (iceberg.warehouse / "catalog.db").exists()  # the catalog is in Postgres
    # read back through the catalog in Postgres (psycopg 3 here, psycopg2 in the target)
    iceberg.catalog_properties = {"type": "sql", "uri": _pg_uri(pg_dsn, pg_database, "psycopg")}
    reader = iceberg.catalog()
    try:
        table = reader.load_table(("raw", "users"))
        assert sorted(row["id"] for row in table.scan().to_arrow().to_pylist()) == [1, 2]
        assert len(table.snapshots()) == 1
    finally:
        reader.close()


def test_test_mode_reaches_the_catalog_and_creates_nothing(iceberg):
    result = iceberg.run(b"", "--test")
    assert result.returncode == 0, result.stderr.decode()
    assert b"test passed: folder" in result.stderr
    assert not iceberg.warehouse.exists()
    assert iceberg.run(iceberg.encode(iceberg.schema(), iceberg.record())).returncode == 0
    for namespace, answer in (
        ("default", b"namespace 'default' holds 1 tables"),
        ("other", b"namespace 'other' is created by the first run"),
    ):
        result = iceberg.run(b"", "--test", namespace=namespace)
        assert result.returncode == 0, result.stderr.decode()
        assert b"catalog 'dativo' reached; " + answer in result.stderr


def test_bad_settings_are_named(iceberg):
    result = iceberg.run(
        b"",
        warehouse="s3://lake/wh",
        load_method="merge",
        partition_spec=[{"field": "ts", "transform": "week"}],
    )
    assert result.returncode == 2
    for problem in (
        b"setting 'load_method' must be one of append, upsert, overwrite, got 'merge'",
        b"setting partition_spec[0].transform 'week' is not one of",
        b"setting 'catalog' is required with an s3:// warehouse",
    ):
        assert problem in result.stderr


def test_s3_warehouse(iceberg, pypi_connector, tmp_path):
    with moto_server(pypi_connector(*MOTO)) as endpoint:
        filesystem = pafs.S3FileSystem(
            access_key=S3["aws_access_key_id"],
            secret_key=S3["aws_secret_access_key"],
            region=S3_REGION,
            endpoint_override=endpoint.removeprefix("http://"),
            scheme="http",
            allow_bucket_creation=True,
        )
        filesystem.create_dir("lake")
        catalog = {"type": "sql", "uri": f"sqlite:///{tmp_path / 'catalog.db'}"}
        stream = iceberg.encode(
            iceberg.schema(), *(iceberg.record(id_=index) for index in (1, 2, 3)), iceberg.state(3)
        )
        result = iceberg.run(
            stream,
            warehouse="s3://lake/wh",
            catalog=catalog,
            s3_endpoint_url=endpoint,
            aws_region=S3_REGION,
            batch_size_rows=2,
            **S3,
        )
        assert result.returncode == 0, result.stderr.decode()
        assert iceberg.echoed(result) == [iceberg.state(3)["value"]]
        objects = [
            info.path
            for info in filesystem.get_file_info(pafs.FileSelector("lake/wh", recursive=True))
            if info.type == pafs.FileType.File
        ]
        assert sum(path.endswith(".parquet") for path in objects) == 2  # one file per flush
        assert any(path.endswith(".metadata.json") for path in objects)
        iceberg.catalog_properties = {
            **catalog,
            "s3.endpoint": endpoint,
            "s3.access-key-id": S3["aws_access_key_id"],
            "s3.secret-access-key": S3["aws_secret_access_key"],
            "s3.region": S3_REGION,
        }
        assert sorted(row["id"] for row in iceberg.rows()) == [1, 2, 3]
    assert not iceberg.warehouse.exists()  # nothing local
