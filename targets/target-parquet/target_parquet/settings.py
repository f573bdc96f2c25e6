"""Settings: their JSON schema (shown by ``--about``), loading, merging and validation."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from dativo_connector_kit.settings import fail_if_invalid, problems, read_config, with_defaults
from dativo_connector_kit.target.policy import BatchPolicy, settings_schema

if t.TYPE_CHECKING:
    from collections.abc import Iterable

COMPRESSIONS = ("zstd", "snappy", "gzip", "brotli", "lz4", "none")
GRANULARITIES = {"year": "year", "month": "month", "day": "date", "hour": "hour"}
ALL_STREAMS = "*"
S3_SETTINGS = ("s3_endpoint_url", "aws_access_key_id", "aws_secret_access_key", "aws_region")

SCHEMA = settings_schema(
    {
        "destination_path": {
            "type": "string",
            "minLength": 1,
            "description": "Local folder, or `s3://bucket/prefix`, receiving one folder per "
            "stream; created if missing.",
        },
        "s3_endpoint_url": {
            "type": "string",
            "description": "S3-compatible endpoint (MinIO, Ceph...), e.g. `http://127.0.0.1:9000`. "
            "Default: AWS.",
        },
        "aws_access_key_id": {
            "type": "string",
            "secret": True,
            "description": "S3 access key. Default: the AWS SDK's usual sources "
            "(`AWS_ACCESS_KEY_ID`, `~/.aws`, instance role).",
        },
        "aws_secret_access_key": {
            "type": "string",
            "secret": True,
            "description": "S3 secret key, with `aws_access_key_id`.",
        },
        "aws_region": {
            "type": "string",
            "description": "S3 region, e.g. `eu-west-1`. Default: the AWS SDK's.",
        },
        "max_file_size_mb": {
            "type": "number",
            "exclusiveMinimum": 0,
            "default": 128,
            "description": "A Parquet file is closed, and the next one started, before it would "
            "grow past this size (MB of 1,000,000 bytes).",
        },
        "compression": {
            "type": "string",
            "enum": list(COMPRESSIONS),
            "default": "zstd",
            "description": "Parquet compression codec.",
        },
        "nested_as_json": {
            "type": "boolean",
            "default": True,
            "description": "Store objects as JSON text columns; `false` stores objects that "
            "declare their properties as Parquet structs.",
        },
        "partition_by": {
            "type": ["array", "object"],
            "default": [],
            "description": 'Hive partitioning: a list of fields (`"country"`) or derived dates '
            '(`{"field": "ts", "granularity": "day"}` -> `ts_date=2024-01-01/`; '
            "granularity year, month, day or hour), for every stream; or an object mapping "
            'stream names (`"*"`: the others) to such lists.',
        },
        "validate_records": {
            "type": "boolean",
            "default": False,
            "description": "Fail, naming stream, record key and field, on a value that does "
            "not fit its field's type, instead of storing it as text.",
        },
    },
    required=("destination_path",),
)


@dataclass(frozen=True)
class PartitionSpec:
    """One level of Hive partitioning: a field's value, or a date derived from a timestamp."""

    field: str
    granularity: str | None = None

    @property
    def name(self) -> str:
        """The folder key: ``country`` or, derived, ``ts_date`` / ``ts_hour`` / ..."""
        if self.granularity is None:
            return self.field
        return f"{self.field}_{GRANULARITIES[self.granularity]}"


@dataclass(frozen=True)
class Settings:
    """Validated, read-only configuration."""

    destination_path: str
    batch: BatchPolicy
    max_file_size_mb: float
    compression: str
    nested_as_json: bool
    validate_records: bool
    partition_by: dict[str, tuple[PartitionSpec, ...]] = field(default_factory=dict)
    s3: dict[str, str] = field(default_factory=dict)

    def partitions_for(self, stream: str) -> tuple[tuple[PartitionSpec, ...], bool]:
        """The stream's partitioning, and whether it names the stream (not just ``"*"``)."""
        if stream in self.partition_by:
            return self.partition_by[stream], True
        return self.partition_by.get(ALL_STREAMS, ()), False


def load_settings(paths: Iterable[Path]) -> Settings:
    """Read the config files, merge them in order (later keys win) and validate the result."""
    return validate(read_config(paths))


def validate(config: dict[str, t.Any]) -> Settings:
    """Return typed settings, or raise ``ConfigurationError`` listing every problem by key."""
    errors = problems(config, SCHEMA)
    partition_by: dict[str, tuple[PartitionSpec, ...]] = {}
    if "partition_by" in config and not any("'partition_by'" in error for error in errors):
        partition_by = _partition_by(config["partition_by"], errors)
    destination = config.get("destination_path")
    if isinstance(destination, str):
        errors += _destination_problems(destination, config)
    fail_if_invalid(errors, SCHEMA)
    values = with_defaults(config, SCHEMA)
    return Settings(
        destination_path=values["destination_path"],
        batch=BatchPolicy.from_settings(values),
        max_file_size_mb=float(values["max_file_size_mb"]),
        compression=values["compression"],
        nested_as_json=values["nested_as_json"],
        validate_records=values["validate_records"],
        partition_by=partition_by,
        s3={key: config[key] for key in S3_SETTINGS if key in config},
    )


def _partition_by(value: list | dict, errors: list[str]) -> dict[str, tuple[PartitionSpec, ...]]:
    """Parse ``partition_by`` (a list for every stream, or streams mapped to lists)."""
    if isinstance(value, list):
        value = {ALL_STREAMS: value}
    parsed: dict[str, tuple[PartitionSpec, ...]] = {}
    for stream, entries in value.items():
        where = "partition_by" if stream == ALL_STREAMS else f"partition_by[{stream!r}]"
        if not isinstance(entries, list):
            errors.append(f"setting {where} must be a list of fields")
            continue
        specs = tuple(
            spec
            for index, entry in enumerate(entries)
            if (spec := _partition_spec(f"{where}[{index}]", entry, errors))
        )
        names = [spec.name for spec in specs]
        if len(set(names)) != len(names):
            errors.append(f"setting {where} repeats a partition: {', '.join(names)}")
        parsed[stream] = specs
    return parsed


def _partition_spec(where: str, entry: t.Any, errors: list[str]) -> PartitionSpec | None:
    if isinstance(entry, str) and entry:
        return PartitionSpec(entry)
    if not isinstance(entry, dict):
        errors.append(f"setting {where} must be a field name or an object with 'field'")
        return None
    unknown = set(entry) - {"field", "granularity"}
    granularity = entry.get("granularity")
    if unknown:
        errors.append(f"setting {where} has unknown keys: {', '.join(sorted(unknown))}")
    elif not isinstance(entry.get("field"), str) or not entry["field"]:
        errors.append(f"setting {where}.field must be a non-empty string")
    elif granularity is not None and granularity not in GRANULARITIES:
        errors.append(
            f"setting {where}.granularity must be one of {', '.join(GRANULARITIES)}, "
            f"got {granularity!r}"
        )
    else:
        return PartitionSpec(entry["field"], granularity)
    return None


def _destination_problems(destination: str, config: dict[str, t.Any]) -> list[str]:
    scheme = destination.partition("://")[0] if "://" in destination else "file"
    if scheme not in ("file", "s3"):
        return [
            f"setting 'destination_path' has unsupported scheme {scheme!r}: use a local "
            "folder or s3://bucket/prefix"
        ]
    if scheme == "s3" and not destination.removeprefix("s3://").strip("/"):
        return ["setting 'destination_path' must name a bucket: s3://bucket/prefix"]
    if scheme == "file":
        return [
            f"setting {key!r} applies only to an s3:// destination_path"
            for key in S3_SETTINGS
            if key in config
        ]
    return []
