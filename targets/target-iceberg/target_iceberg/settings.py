"""Settings: their JSON schema (shown by ``--about``), loading, merging and validation."""

from __future__ import annotations

import os
import typing as t
import uuid
from dataclasses import dataclass, field

from dativo_connector_kit.settings import fail_if_invalid, problems, read_config, with_defaults
from dativo_connector_kit.target.policy import SETTINGS as BATCH_SETTINGS
from dativo_connector_kit.target.policy import BatchPolicy

if t.TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

LOAD_METHODS = ("append", "upsert", "overwrite")
TRANSFORMS = "identity, year, month, day, hour, bucket[N], truncate[W]"
ALL_STREAMS = "*"
RUN_ID_ENV = "DATIVO_RUN_ID"
STATE_ID_ENV = "DATIVO_STATE_ID"  # the load's lineage (see ``ledger``)
RESUME_POINT_ENV = "DATIVO_RESUME_POINT"  # where the source resumes (see ``ledger``)
# the target's S3 settings -> pyiceberg's FileIO properties
S3_PROPERTIES = {
    "s3_endpoint_url": "s3.endpoint",
    "aws_access_key_id": "s3.access-key-id",
    "aws_secret_access_key": "s3.secret-access-key",
    "aws_region": "s3.region",
}

SCHEMA: dict[str, t.Any] = {
    "type": "object",
    "properties": {
        "warehouse": {
            "type": "string",
            "minLength": 1,
            "description": "Where table data and metadata go: a local folder (created if "
            "missing) or `s3://bucket/prefix`.",
        },
        "catalog": {
            "type": "object",
            "default": {},
            "description": 'pyiceberg catalog properties: `{"type": "sql", "uri": '
            '"sqlite:///path/catalog.db"}` or `"postgresql+psycopg2://user:pw@host/db"`, or '
            '`{"type": "rest", "uri": "https://...", "credential": "..."}`. Default, with a '
            "local warehouse: a SQLite catalog `catalog.db` inside the warehouse folder.",
        },
        "catalog_name": {
            "type": "string",
            "minLength": 1,
            "default": "dativo",
            "description": "The catalog's name (a SQL catalog keeps several apart by it).",
        },
        "namespace": {
            "type": "string",
            "minLength": 1,
            "default": "default",
            "description": "Namespace of the tables; created if missing.",
        },
        "table_names": {
            "type": "object",
            "default": {},
            "description": 'Stream name -> table name (`{"public-users": "users"}`); other '
            "streams go to a table named as the stream.",
        },
        "load_method": {
            "type": "string",
            "enum": list(LOAD_METHODS),
            "default": "append",
            "description": "`append` every record; `upsert` by the stream's key properties "
            "(the last record of a key wins); `overwrite`: the run's first flush of a stream "
            "replaces the table's rows, later flushes append.",
        },
        "partition_spec": {
            "type": ["array", "object"],
            "default": [],
            "description": 'Partitioning of new tables: a list of fields (`"country"`: '
            'identity) or `{"field": "ts", "transform": "day"}` (transform '
            f"{TRANSFORMS}), for every stream; or an object mapping stream names "
            '(`"*"`: the others) to such lists.',
        },
        "nested_as_json": {
            "type": "boolean",
            "default": True,
            "description": "Store objects as JSON text columns; `false` stores objects that "
            "declare their properties as Iceberg structs.",
        },
        "run_id": {
            "type": "string",
            "minLength": 1,
            "description": "Identity of this run, written into every snapshot summary "
            "(`dativo.run_id`). Without dativo's `$DATIVO_STATE_ID`, it also names the load: "
            "a replay of the same input with the same run_id skips the records already "
            f"committed. Default: `${RUN_ID_ENV}`, else a new random id.",
        },
        "s3_endpoint_url": {
            "type": "string",
            "description": "S3-compatible endpoint of an `s3://` warehouse, e.g. "
            "`http://127.0.0.1:9000`. Default: AWS.",
        },
        "aws_access_key_id": {
            "type": "string",
            "secret": True,
            "description": "S3 access key. Default: the AWS SDK's usual sources.",
        },
        "aws_secret_access_key": {
            "type": "string",
            "secret": True,
            "description": "S3 secret key, with `aws_access_key_id`.",
        },
        "aws_region": {"type": "string", "description": "S3 region, e.g. `eu-west-1`."},
        **BATCH_SETTINGS,
        # larger batches than the kit's: fewer snapshots and data files; a batch is held as
        # Arrow (see ``target.CHUNK_ROWS``), about the size of its input
        "batch_size_rows": {**BATCH_SETTINGS["batch_size_rows"], "default": 500_000},
        "batch_size_bytes": {**BATCH_SETTINGS["batch_size_bytes"], "default": 128_000_000},
    },
    "required": ["warehouse"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class PartitionField:
    """One partition field of a new table: a source column and an Iceberg transform."""

    field: str
    transform: str = "identity"


@dataclass(frozen=True)
class Settings:
    """Validated, read-only configuration."""

    warehouse: str
    catalog: dict[str, str]
    catalog_name: str
    namespace: str
    load_method: str
    nested_as_json: bool
    run_id: str
    batch: BatchPolicy
    load_id: str = ""  # the lineage of runs whose marks count (``ledger``): $DATIVO_STATE_ID
    resume_point: str = "start"  # the point the source resumes from: $DATIVO_RESUME_POINT
    table_names: dict[str, str] = field(default_factory=dict)
    partition_spec: dict[str, tuple[PartitionField, ...]] = field(default_factory=dict)

    @property
    def is_local(self) -> bool:
        """Whether the warehouse is a local folder."""
        return "://" not in self.warehouse or self.warehouse.startswith("file://")

    def table_for(self, stream: str) -> str:
        """The table name of a stream."""
        return self.table_names.get(stream, stream)

    def partitions_for(self, stream: str) -> tuple[PartitionField, ...]:
        """The partition fields of a stream's new table."""
        return self.partition_spec.get(stream, self.partition_spec.get(ALL_STREAMS, ()))


def load_settings(paths: Iterable[Path]) -> Settings:
    """Read the config files, merge them in order (later keys win) and validate the result."""
    return validate(read_config(paths))


def validate(config: dict[str, t.Any]) -> Settings:
    """Return typed settings, or raise ``ConfigurationError`` listing every problem by key."""
    errors = problems(config, SCHEMA)
    values = with_defaults(config, SCHEMA)
    partitions: dict[str, tuple[PartitionField, ...]] = {}
    if values["partition_spec"] and not any("'partition_spec'" in error for error in errors):
        partitions = _partition_spec(values["partition_spec"], errors)
    if not any("'table_names'" in error for error in errors):
        errors += _table_name_problems(values["table_names"])
    if not any("'catalog'" in error or "'warehouse'" in error for error in errors):
        errors += _catalog_problems(values["warehouse"], values["catalog"], config)
    fail_if_invalid(errors, SCHEMA)
    catalog = {key: str(value) for key, value in values["catalog"].items()}
    catalog.update((S3_PROPERTIES[key], config[key]) for key in S3_PROPERTIES if key in config)
    run_id = values["run_id"] or os.environ.get(RUN_ID_ENV) or uuid.uuid4().hex
    return Settings(
        warehouse=values["warehouse"],
        catalog=catalog,
        catalog_name=values["catalog_name"],
        namespace=values["namespace"],
        load_method=values["load_method"],
        nested_as_json=values["nested_as_json"],
        run_id=run_id,
        batch=BatchPolicy.from_settings(values),
        load_id=os.environ.get(STATE_ID_ENV) or run_id,
        resume_point=os.environ.get(RESUME_POINT_ENV) or "start",
        table_names=dict(values["table_names"]),
        partition_spec=partitions,
    )


def _table_name_problems(names: dict[str, t.Any]) -> list[str]:
    return [
        f"setting table_names[{stream!r}] must be a table name (no '/', not empty)"
        for stream, name in names.items()
        if not isinstance(name, str) or not name or "/" in name
    ]


def _catalog_problems(
    warehouse: str, catalog: dict[str, t.Any], config: dict[str, t.Any]
) -> list[str]:
    errors = []
    scheme = warehouse.partition("://")[0] if "://" in warehouse else "file"
    if scheme not in ("file", "s3"):
        errors.append(
            f"setting 'warehouse' has unsupported scheme {scheme!r}: use a local folder or "
            "s3://bucket/prefix"
        )
    if scheme == "file":
        errors += [
            f"setting {key!r} applies only to an s3:// warehouse"
            for key in S3_PROPERTIES
            if key in config
        ]
    if not catalog and scheme != "file":
        errors.append(
            "setting 'catalog' is required with an s3:// warehouse (the default SQLite "
            "catalog lives in a local warehouse folder)"
        )
    bad = [key for key, value in catalog.items() if not isinstance(value, str | int | float)]
    errors += [f"setting catalog[{key!r}] must be a string" for key in bad]
    if catalog and "type" not in catalog and "uri" not in catalog:
        errors.append("setting 'catalog' needs a 'type' (sql, rest, ...) and its 'uri'")
    return errors


def _partition_spec(value: list | dict, errors: list[str]) -> dict[str, tuple[PartitionField, ...]]:
    """Parse ``partition_spec`` (a list for every stream, or streams mapped to lists)."""
    from pyiceberg.transforms import UnknownTransform, parse_transform

    if isinstance(value, list):
        value = {ALL_STREAMS: value}
    parsed: dict[str, tuple[PartitionField, ...]] = {}
    for stream, entries in value.items():
        where = "partition_spec" if stream == ALL_STREAMS else f"partition_spec[{stream!r}]"
        if not isinstance(entries, list):
            errors.append(f"setting {where} must be a list of fields")
            continue
        fields = []
        for index, entry in enumerate(entries):
            spec = _partition_field(f"{where}[{index}]", entry, errors)
            if spec is None:
                continue
            try:
                transform = parse_transform(spec.transform)
            except ValueError:
                transform = UnknownTransform(transform=spec.transform)
            if isinstance(transform, UnknownTransform):
                errors.append(
                    f"setting {where}[{index}].transform {spec.transform!r} is not one of "
                    f"{TRANSFORMS}"
                )
            else:
                fields.append(spec)
        parsed[stream] = tuple(fields)
    return parsed


def _partition_field(where: str, entry: t.Any, errors: list[str]) -> PartitionField | None:
    if isinstance(entry, str) and entry:
        return PartitionField(entry)
    if not isinstance(entry, dict):
        errors.append(f"setting {where} must be a field name or an object with 'field'")
        return None
    unknown = set(entry) - {"field", "transform"}
    if unknown:
        errors.append(f"setting {where} has unknown keys: {', '.join(sorted(unknown))}")
    elif not isinstance(entry.get("field"), str) or not entry["field"]:
        errors.append(f"setting {where}.field must be a non-empty string")
    elif not isinstance(entry.get("transform", "identity"), str):
        errors.append(f"setting {where}.transform must be a string ({TRANSFORMS})")
    else:
        return PartitionField(entry["field"], entry.get("transform", "identity"))
    return None
