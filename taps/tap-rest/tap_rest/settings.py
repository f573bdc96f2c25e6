"""The settings of tap-rest as a JSON schema: what ``--about`` shows and the SDK validates."""

from __future__ import annotations

from singer_sdk import typing as th

AUTH_TYPES = ["none", "bearer", "api_key", "basic"]
PAGINATION_TYPES = ["none", "page", "offset", "cursor", "link_header"]

AUTH = th.ObjectType(
    th.Property(
        "type",
        th.StringType,
        allowed_values=AUTH_TYPES,
        description="How requests authenticate: none, bearer, api_key or basic. Default none.",
    ),
    th.Property("token", th.StringType, secret=True, description="bearer: the token."),
    th.Property(
        "name",
        th.StringType,
        description="api_key: the header or query parameter carrying the key. Default X-API-Key.",
    ),
    th.Property("value", th.StringType, secret=True, description="api_key: the key itself."),
    th.Property(
        "in",
        th.StringType,
        allowed_values=["header", "query"],
        description="api_key: send the key as a header or as a query parameter. Default header.",
    ),
    th.Property("username", th.StringType, description="basic: the user name."),
    th.Property("password", th.StringType, secret=True, description="basic: the password."),
    additional_properties=False,
)

PAGINATION = th.ObjectType(
    th.Property(
        "type",
        th.StringType,
        allowed_values=PAGINATION_TYPES,
        description="none, page, offset, cursor or link_header. Default none (one request).",
    ),
    th.Property("page_param", th.StringType, description="page: page number parameter."),
    th.Property("start_page", th.IntegerType, description="page: first page number. Default 1."),
    th.Property(
        "total_pages_path",
        th.StringType,
        description="page: path in the body to the number of pages; without it, paging stops "
        "at the first empty page.",
    ),
    th.Property("offset_param", th.StringType, description="offset: offset parameter."),
    th.Property(
        "cursor_path",
        th.StringType,
        description="cursor: path in the body to the next-page token; paging stops when it is "
        "missing, null or empty.",
    ),
    th.Property("cursor_param", th.StringType, description="cursor: parameter sending the token."),
    th.Property("page_size", th.IntegerType(minimum=1), description="Records per page to ask for."),
    th.Property(
        "page_size_param", th.StringType, description="Parameter carrying page_size, if any."
    ),
    additional_properties=False,
)

STREAM = th.ObjectType(
    th.Property("name", th.StringType, required=True, description="Stream name."),
    th.Property(
        "path", th.StringType, required=True, description="Path appended to api_url, e.g. /users."
    ),
    th.Property(
        "records_path",
        th.StringType,
        description="Where the records are in the body: a JSONPath ($.data[*]) or a dotted "
        "path (data.items). Default: the body is the list of records.",
    ),
    th.Property(
        "primary_keys", th.ArrayType(th.StringType), description="Fields identifying a record."
    ),
    th.Property(
        "replication_key",
        th.StringType,
        description="Field whose maximum is kept as the bookmark; makes the stream incremental.",
    ),
    th.Property(
        "records_sorted",
        th.BooleanType,
        description="true if the API returns records in ascending replication_key order: the "
        "bookmark then advances with every STATE, so an interrupted run resumes mid-stream. "
        "Default false (the maximum is tracked and saved when the stream ends).",
    ),
    th.Property(
        "incremental_param",
        th.StringType,
        description="Query parameter filled with the bookmark, e.g. since.",
    ),
    th.Property(
        "params",
        th.ObjectType(additional_properties=True),
        description="Query parameters sent with every request of the stream.",
    ),
    th.Property(
        "schema",
        th.ObjectType(additional_properties=True),
        description="JSON schema of the records. Default: inferred from the first records.",
    ),
    th.Property("pagination", PAGINATION, description="How to fetch the following pages."),
    additional_properties=False,
)

SETTINGS = th.PropertiesList(
    th.Property(
        "api_url",
        th.StringType(pattern=r"^https?://"),
        required=True,
        description="Base URL of the API, e.g. https://api.example.com/v1.",
    ),
    th.Property(
        "streams", th.ArrayType(STREAM), required=True, description="The endpoints to read."
    ),
    th.Property("auth", AUTH, description="Authentication. Default none."),
    th.Property(
        "headers",
        th.ObjectType(additional_properties=th.StringType),
        description="HTTP headers sent with every request.",
    ),
    th.Property(
        "timeout",
        th.NumberType(exclusive_minimum=0),
        description="Seconds to wait for a response. Default 60.",
    ),
    th.Property(
        "requests_per_second",
        th.NumberType(exclusive_minimum=0),
        description="Most requests per second, counted across all streams. Default no limit.",
    ),
    th.Property(
        "max_retries",
        th.IntegerType(minimum=0),
        description="Retries of a request failing with 429, 5xx, a timeout or a connection "
        "error. Default 5.",
    ),
    th.Property(
        "backoff_factor",
        th.NumberType(minimum=0),
        description="Seconds of the first retry wait; each retry doubles it, with jitter. "
        "Default 1.",
    ),
    th.Property(
        "backoff_max",
        th.NumberType(exclusive_minimum=0),
        description="Longest wait between two attempts, in seconds. A Retry-After asking for "
        "more ends the retries. Default 60.",
    ),
    th.Property(
        "schema_sample_records",
        th.IntegerType(minimum=1),
        description="Records read to infer the schema of a stream without one. Default 100.",
    ),
).to_dict()
