"""One configured endpoint as a singer-sdk REST stream."""

from __future__ import annotations

import logging
import typing as t
from datetime import UTC, datetime
from functools import cached_property
from itertools import islice

import backoff
import requests
from singer_sdk import RESTStream
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.mapper import SameRecordTransform

from tap_rest.auth import authenticator_for
from tap_rest.emit import BlockWriter, RecordEncoder
from tap_rest.errors import RETRIED, CredentialsRefusedError, HTTPStatusError, kit_errors, where
from tap_rest.inference import infer_schema
from tap_rest.pages import PageReader
from tap_rest.paging import pagination_for

if t.TYPE_CHECKING:
    from collections.abc import Generator, Iterator

    from backoff.types import Details
    from singer_sdk import Tap
    from singer_sdk.authenticators import APIAuthenticatorBase
    from singer_sdk.helpers.types import Context, RequestFunc
    from singer_sdk.pagination import BaseAPIPaginator
    from singer_sdk.streams.rest import HTTPRequest, PageContext

    from tap_rest.retry import RateLimiter
    from tap_rest.spec import Settings, StreamSpec

AUTH_STATUSES = (401, 403)
BODY_EXCERPT = 200


class APIStream(RESTStream):
    """Records of one endpoint, page after page, optionally from a bookmark on."""

    def __init__(
        self,
        tap: Tap,
        spec: StreamSpec,
        settings: Settings,
        *,
        limiter: RateLimiter,
        writer: BlockWriter | None,
    ) -> None:
        """Declare the stream; its schema is inferred on first use if the config has none.

        With a ``writer``, records take the fast path of :mod:`tap_rest.emit`.
        """
        self._spec = spec
        self._settings = settings
        self._limiter = limiter
        self._writer = writer
        self._time_extracted = datetime.now(UTC).isoformat()
        self._reader = PageReader(spec.name, spec.records_path, tap.logger.getChild(spec.name))
        self._pagination = pagination_for(spec.pagination, self._reader)
        self._authenticator = authenticator_for(settings.auth)
        super().__init__(tap, name=spec.name, schema=spec.schema, path=spec.path)
        self.primary_keys = list(spec.primary_keys)
        self.replication_key = spec.replication_key

    # What to request

    @property
    def url_base(self) -> str:
        """The ``api_url`` setting."""
        return self._settings.api_url

    @property
    def http_headers(self) -> dict[str, str]:
        """The ``headers`` setting."""
        return dict(self._settings.headers)

    @property
    def authenticator(self) -> APIAuthenticatorBase:
        """Adds the ``auth`` credentials to each request."""
        return self._authenticator

    @property
    def timeout(self) -> float:
        """The ``timeout`` setting, in seconds."""
        return self._settings.timeout

    @property
    def is_sorted(self) -> bool:
        """The ``records_sorted`` setting."""
        return self._spec.records_sorted

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        """The stream's ``params``, the page size and the bookmark (pagination adds its token
        in :meth:`get_http_request`)."""
        params = dict(self._spec.params)
        pagination = self._spec.pagination
        if pagination.page_size_param:
            params[pagination.page_size_param] = pagination.page_size
        if self._spec.incremental_param:
            bookmark = self.get_starting_replication_key_value(context)
            if bookmark is not None:
                params[self._spec.incremental_param] = bookmark
        return params

    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        """The request for one page."""
        request = super().get_http_request(page=page)
        self._pagination.send(request, page.next_page_token)
        return request

    def get_new_paginator(self) -> BaseAPIPaginator:
        """A paginator of the configured style."""
        return self._pagination.paginator()

    # What came back

    def parse_response(self, response: requests.Response) -> list[dict[str, t.Any]]:
        """The records at ``records_path``."""
        self._time_extracted = datetime.now(UTC).isoformat()
        return self._reader.records(response)

    def validate_response(self, response: requests.Response) -> None:
        """401/403 fail at once; 429 and 5xx are retried; other 4xx fail."""
        status = response.status_code
        if status < 400:
            return
        message = self.response_error_message(response)
        if status in AUTH_STATUSES:
            raise CredentialsRefusedError(message, response)
        if status in self.extra_retry_statuses or status >= 500:
            raise RetriableAPIError(message, response)
        raise HTTPStatusError(message, response)

    def response_error_message(self, response: requests.Response) -> str:
        """``HTTP <status> <reason> from <method> <url without query>: <body excerpt>``."""
        excerpt = " ".join(response.content[:BODY_EXCERPT].decode(errors="replace").split())
        message = f"HTTP {response.status_code} {response.reason} from {where(response.request)}"
        return f"{message}: {excerpt}" if excerpt else message

    # Retries and rate limit

    def request_decorator(self, func: RequestFunc) -> RequestFunc:
        """Wait for the rate limiter before every attempt; retry with :meth:`backoff_*`."""

        def limited(prepared: requests.PreparedRequest, context: Context | None) -> t.Any:
            self._limiter.wait()
            return func(prepared, context)

        return backoff.on_exception(
            self.backoff_wait_generator,
            RETRIED,
            max_tries=self.backoff_max_tries,
            jitter=self.backoff_jitter,
            on_backoff=self.backoff_handler,
            logger=None,  # its default handlers would log URLs, query string included
        )(limited)

    def backoff_wait_generator(self) -> Generator[float, t.Any, None]:
        """Exponential waits with jitter, or what ``Retry-After`` asks."""
        return self._settings.retry.waits()

    def backoff_max_tries(self) -> int:
        """The first attempt plus ``max_retries``."""
        return self._settings.retry.max_retries + 1

    def backoff_jitter(self, value: float) -> float:
        """No extra jitter: :meth:`backoff_wait_generator` draws it, and ``Retry-After`` is
        honoured as is."""
        return value

    def backoff_handler(self, details: Details) -> None:
        """Log each retry on one line, without the query string."""
        exc = details.get("exception")
        if isinstance(exc, RetriableAPIError):
            failure = str(exc)
        elif isinstance(exc, requests.exceptions.RequestException):
            failure = f"{type(exc).__name__} for {where(exc.request)}"
        else:
            failure = f"{type(exc).__name__}: {exc}"
        self.log(
            "%s; retry %d of %d in %.2f s",
            failure,
            details["tries"],
            self._settings.retry.max_retries,
            details.get("wait", 0.0),
            level=logging.WARNING,
        )

    # Records and schema

    def get_records(self, context: Context | None) -> Iterator[dict[str, t.Any]]:
        """Every record of every page; failures left after retries become kit errors."""
        try:
            with kit_errors(self.name, self._settings.retry.max_retries):
                yield from super().get_records(context)
        finally:  # the SDK writes no STATE after the last records if the state did not change
            if self._writer is not None:
                self._writer.flush_records()

    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any]:
        """A record without its replication key gets it as null, which leaves the bookmark be."""
        if self.replication_key and self.replication_key not in row:
            row[self.replication_key] = None
        return row

    # Fast record output

    @cached_property
    def _encoder(self) -> RecordEncoder | None:
        """The fast path's encoder; ``None`` where the SDK's own path is needed: stream maps,
        flattening, or a deselected property inside a selected one."""
        maps = self.stream_maps
        deselected = frozenset(
            crumb[1] for crumb, chosen in self.mask.items() if len(crumb) == 2 and not chosen
        )
        if (
            self._writer is None
            or len(maps) != 1
            or type(maps[0]) is not SameRecordTransform
            or self.config.get("flattening_enabled")
            or any(
                len(crumb) > 2 and not chosen and crumb[1] not in deselected
                for crumb, chosen in self.mask.items()
            )
        ):
            return None
        schema = self.effective_schema
        return RecordEncoder(
            self.name,
            declared=None
            if schema.get("additionalProperties")
            else frozenset(schema.get("properties", {})),
            deselected=deselected,
            version=self._stream_version,
            logger=self.logger,
        )

    def _write_record_message(self, record: dict[str, t.Any]) -> None:
        """Queue the record's RECORD line on the fast path, or leave it to the SDK."""
        encoder = self._encoder
        if encoder is None or self._writer is None:
            super()._write_record_message(record)
            return
        self._writer.write_record(encoder.line(record, self._time_extracted))
        self.state_manager.is_flushed = False

    @property
    def schema(self) -> dict:
        """The configured schema, else the catalog's, else one inferred from the first records."""
        if self._schema is None:
            self._schema = self._input_schema or self._infer_schema()
        return self._schema

    def _infer_schema(self) -> dict:
        records = self.get_records(None)
        try:
            sample = list(islice(records, self._settings.schema_sample_records))
        finally:
            records.close()
        keys = [*self.primary_keys, *([self.replication_key] if self.replication_key else [])]
        if unseen := [key for key in keys if not any(key in record for record in sample)]:
            self.log(
                "keys %s are in none of the %d sampled records: declared as nullable strings",
                unseen,
                len(sample),
                level=logging.WARNING,
            )
        self.log("inferred the schema from %d records", len(sample))
        return infer_schema(sample, keys)
