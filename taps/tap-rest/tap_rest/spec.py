"""The tap's config, checked once and handed on as read-only typed objects."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from dativo_connector_kit import ConfigurationError
from tap_rest.bodypath import BodyPath, BodyPathError
from tap_rest.retry import RetryPolicy

if t.TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True)
class AuthSpec:
    """How every request authenticates (``type`` none, bearer, api_key or basic)."""

    type: str = "none"
    token: str = field(default="", repr=False)
    name: str = "X-API-Key"
    value: str = field(default="", repr=False)
    location: str = "header"
    username: str = ""
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class PaginationSpec:
    """How a stream asks for its following pages."""

    type: str = "none"
    page_param: str = "page"
    start_page: int = 1
    total_pages_path: BodyPath | None = None
    offset_param: str = "offset"
    cursor_path: BodyPath | None = None
    cursor_param: str = "cursor"
    page_size: int | None = None
    page_size_param: str | None = None


@dataclass(frozen=True)
class StreamSpec:
    """One endpoint read as one stream."""

    name: str
    path: str
    records_path: BodyPath | None = None
    primary_keys: tuple[str, ...] = ()
    replication_key: str | None = None
    records_sorted: bool = False
    incremental_param: str | None = None
    params: Mapping[str, t.Any] = field(default_factory=dict)
    schema: dict[str, t.Any] | None = None
    pagination: PaginationSpec = PaginationSpec()


@dataclass(frozen=True)
class Settings:
    """The whole validated config."""

    api_url: str
    streams: tuple[StreamSpec, ...]
    auth: AuthSpec
    headers: Mapping[str, str]
    timeout: float
    requests_per_second: float | None
    retry: RetryPolicy
    schema_sample_records: int


AUTH_NEEDS = {"bearer": ("token",), "api_key": ("value",), "basic": ("username", "password")}


def parse_settings(config: Mapping[str, t.Any]) -> Settings:
    """Build the typed settings from a config that passed the JSON schema.

    Raises ``ConfigurationError`` listing every problem the schema cannot express.
    """
    errors: list[str] = []
    auth = _auth(config.get("auth") or {}, errors)
    streams = tuple(
        spec
        for index, entry in enumerate(config["streams"])
        if (spec := _stream(entry, f"streams[{index}]", errors)) is not None
    )
    names = [entry["name"] for entry in config["streams"]]
    errors.extend(
        f"stream name {name!r} is used more than once"
        for name in sorted({name for name in names if names.count(name) > 1})
    )
    if not config["streams"]:
        errors.append("streams: configure at least one stream")
    if errors:
        raise ConfigurationError("invalid config: " + "; ".join(errors))
    return Settings(
        api_url=config["api_url"].rstrip("/"),
        streams=streams,
        auth=auth,
        headers=dict(config.get("headers") or {}),
        timeout=float(config.get("timeout") or 60),
        requests_per_second=config.get("requests_per_second"),
        retry=RetryPolicy(
            max_retries=_default(config.get("max_retries"), 5),
            backoff_factor=float(_default(config.get("backoff_factor"), 1.0)),
            backoff_max=float(_default(config.get("backoff_max"), 60.0)),
        ),
        schema_sample_records=config.get("schema_sample_records") or 100,
    )


def _default(value: t.Any, default: t.Any) -> t.Any:
    """``value`` unless it is absent (``None``); unlike ``or``, keeps zeros."""
    return default if value is None else value


def _auth(entry: Mapping[str, t.Any], errors: list[str]) -> AuthSpec:
    kind = entry.get("type") or "none"
    errors.extend(
        f"auth.type {kind!r} needs auth.{key}"
        for key in AUTH_NEEDS.get(kind, ())
        if entry.get(key) is None
    )
    return AuthSpec(
        type=kind,
        token=entry.get("token") or "",
        name=entry.get("name") or "X-API-Key",
        value=entry.get("value") or "",
        location=entry.get("in") or "header",
        username=entry.get("username") or "",
        password=entry.get("password") or "",
    )


def _stream(entry: Mapping[str, t.Any], where: str, errors: list[str]) -> StreamSpec | None:
    count = len(errors)
    replication_key = entry.get("replication_key")
    if entry.get("incremental_param") and not replication_key:
        errors.append(f"{where}.incremental_param needs {where}.replication_key")
    schema = entry.get("schema")
    if schema is not None:
        declared = set(schema.get("properties", {}))
        fields = [
            *(entry.get("primary_keys") or []),
            *([replication_key] if replication_key else []),
        ]
        errors.extend(
            f"{where}: {name!r} is not a property of the stream's schema"
            for name in fields
            if name not in declared
        )
    records_path = _path(entry.get("records_path"), f"{where}.records_path", errors)
    pagination = _pagination(entry.get("pagination") or {}, f"{where}.pagination", errors)
    if len(errors) > count:
        return None
    return StreamSpec(
        name=entry["name"],
        path="/" + entry["path"].lstrip("/"),
        records_path=records_path,
        primary_keys=tuple(entry.get("primary_keys") or ()),
        replication_key=replication_key,
        records_sorted=bool(entry.get("records_sorted")),
        incremental_param=entry.get("incremental_param"),
        params=dict(entry.get("params") or {}),
        schema=schema,
        pagination=pagination,
    )


def _pagination(entry: Mapping[str, t.Any], where: str, errors: list[str]) -> PaginationSpec:
    kind = entry.get("type") or "none"
    if kind == "cursor" and not entry.get("cursor_path"):
        errors.append(f"{where}.type 'cursor' needs {where}.cursor_path")
    if (entry.get("page_size") is None) != (entry.get("page_size_param") is None):
        errors.append(f"{where}: page_size and page_size_param go together")
    return PaginationSpec(
        type=kind,
        page_param=entry.get("page_param") or "page",
        start_page=_default(entry.get("start_page"), 1),
        total_pages_path=_path(entry.get("total_pages_path"), f"{where}.total_pages_path", errors),
        offset_param=entry.get("offset_param") or "offset",
        cursor_path=_path(entry.get("cursor_path"), f"{where}.cursor_path", errors),
        cursor_param=entry.get("cursor_param") or "cursor",
        page_size=entry.get("page_size"),
        page_size_param=entry.get("page_size_param"),
    )


def _path(expression: str | None, where: str, errors: list[str]) -> BodyPath | None:
    if expression is None:
        return None
    try:
        return BodyPath(expression)
    except BodyPathError as exc:
        errors.append(f"{where}: {exc}")
        return None
