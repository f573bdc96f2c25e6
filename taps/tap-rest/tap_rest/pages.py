"""Reading a page: the response body, parsed once, and the records in it."""

from __future__ import annotations

import decimal
import json
import logging
import typing as t

import dativo_connector_kit as kit
from tap_rest.errors import where

if t.TYPE_CHECKING:
    import requests

    from tap_rest.bodypath import BodyPath


class PageReader:
    """Parses each response body once, for the stream and its paginator alike."""

    def __init__(self, stream: str, records_path: BodyPath | None, logger: logging.Logger) -> None:
        """Read the records of ``stream`` at ``records_path`` (default: the body is the list)."""
        self._stream = stream
        self._records_path = records_path
        self._logger = logger
        self._response: requests.Response | None = None
        self._body: t.Any = None
        self._records: list[dict[str, t.Any]] = []
        self._warned = False

    def body(self, response: requests.Response) -> t.Any:
        """The JSON body of ``response`` (floats as ``Decimal``, exactly as sent)."""
        self._read(response)
        return self._body

    def records(self, response: requests.Response) -> list[dict[str, t.Any]]:
        """The records of the page in ``response``."""
        self._read(response)
        return self._records

    def _read(self, response: requests.Response) -> None:
        if response is self._response:
            return
        try:
            # an empty body (HTTP 204, say) is a page without records
            body = (
                json.loads(response.content, parse_float=decimal.Decimal)
                if response.content.strip()
                else []
            )
        except ValueError as exc:
            kind = response.headers.get("Content-Type", "no Content-Type")
            raise kit.ConnectorError(
                f"stream {self._stream!r}: {where(response.request)} returned HTTP "
                f"{response.status_code} with a body that is not JSON ({kind}): {exc}"
            ) from exc
        self._records = self._extract(body)
        self._body = body
        self._response = response

    def _extract(self, body: t.Any) -> list[dict[str, t.Any]]:
        path = self._records_path
        if path is None:
            if not isinstance(body, list):
                raise kit.ConfigurationError(
                    f"stream {self._stream!r}: the response body is {_describe(body)}, not a "
                    "list of records: set records_path to where the records are"
                )
            found = body
        else:
            matches = path.find(body)
            if not matches and isinstance(body, dict) and not path.is_jsonpath and not self._warned:
                self._warned = True
                self._logger.warning(
                    "records_path %r is not in the response, which is %s",
                    path.expression,
                    _describe(body),
                )
            found = []
            for value in matches:  # a list gives its items; null gives nothing
                found.extend(
                    value if isinstance(value, list) else [value] if value is not None else []
                )
        if not all(isinstance(record, dict) for record in found):
            location = path.expression if path else "(the body)"
            raise kit.ConfigurationError(
                f"stream {self._stream!r}: records_path {location!r} leads to values that are "
                "not JSON objects"
            )
        return found


def _describe(body: t.Any) -> str:
    if isinstance(body, dict):
        return f"an object with keys {sorted(body)[:10]}"
    return f"a {type(body).__name__}"
