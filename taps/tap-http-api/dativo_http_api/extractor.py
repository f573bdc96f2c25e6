"""Extractor for HTTP API endpoints, written exactly as the connector guide describes.

Config (``source.config`` of the job):

- ``endpoint`` (required): base URL; records come from ``GET {endpoint}/data``;
- ``api_key`` (required): sent as ``Authorization: Bearer <api_key>``;
- ``object`` (default ``data``): the stream name and the state's object name when the run
  names none (a sync always does: the object the job selected, ``source_config.object``);
- ``per_page`` (default 100), ``timeout`` (seconds, default 30);
- ``cursor_field`` (default ``updated_at``): records are extracted incrementally by it: the
  largest value seen is the bookmark, sent back as ``since`` on the next run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests

from dativo_connector_kit.native import (
    AuthenticationError,
    ConnectionError,
    IncrementalStateManager,
    SourceConfig,
    TransientError,
    get_logger,
)

logger = get_logger(__name__)
CONNECTOR_TYPE = "http_api"


class HttpApiExtractor:
    """Extractor for HTTP API endpoints."""

    def __init__(
        self,
        source_config: SourceConfig,
        state_manager: IncrementalStateManager | None = None,
    ) -> None:
        self.source_config = source_config
        self.state_manager = state_manager
        self.connection = source_config.connection
        self.endpoint = str(self.connection.get("endpoint", "")).rstrip("/")
        self.object_name = source_config.object or self.connection.get("object", "data")
        self.cursor_field = self.connection.get("cursor_field", "updated_at")
        self.per_page = int(self.connection.get("per_page", 100))
        self.timeout = float(self.connection.get("timeout", 30))
        self.headers = {
            "Authorization": f"Bearer {self.connection.get('api_key', '')}",
            "Content-Type": "application/json",
        }

    def extract(self) -> Iterator[list[dict[str, Any]]]:
        """Yield pages of records; after each page, checkpoint the largest cursor value."""
        bookmark = self._bookmark()
        since = bookmark.get("last_sync_timestamp")
        page = 1
        while True:
            params: dict[str, Any] = {"page": page, "per_page": self.per_page}
            if since:
                params["since"] = since
            records = self._get(f"{self.endpoint}/data", params).get("items", [])
            if not records:
                break
            yield records
            newest = max(
                (str(r[self.cursor_field]) for r in records if r.get(self.cursor_field)),
                default=None,
            )
            if newest and (bookmark.get("last_sync_timestamp") or "") < newest:
                bookmark = {"last_sync_timestamp": newest}
                self._save(bookmark)
            page += 1

    def check_connection(self) -> dict[str, Any]:
        """Check API connection."""
        try:
            self._get(f"{self.endpoint}/health", {})
        except (ConnectionError, AuthenticationError, TransientError) as exc:
            return {"success": False, "message": str(exc)}
        return {"success": True, "message": "API accessible"}

    def discover(self) -> dict[str, Any]:
        """Discover available endpoints from ``GET {endpoint}/schema``."""
        schema = self._get(f"{self.endpoint}/schema", {})
        return {
            "objects": [
                {
                    "name": obj["name"],
                    "type": "endpoint",
                    "schema": obj.get("schema", {}),
                    "key_properties": obj.get("key_properties", []),
                }
                for obj in schema.get("endpoints", [])
            ]
        }

    def _bookmark(self) -> dict[str, Any]:
        if self.state_manager is None:
            return {}
        return self.state_manager.get_state(
            tenant_id=self.source_config.tenant_id,
            connector_type=CONNECTOR_TYPE,
            object_name=self.object_name,
        )

    def _save(self, bookmark: dict[str, Any]) -> None:
        if self.state_manager is not None:
            self.state_manager.update_state(
                tenant_id=self.source_config.tenant_id,
                connector_type=CONNECTOR_TYPE,
                object_name=self.object_name,
                state=bookmark,
            )

    def _get(self, url: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            response = requests.get(url, headers=self.headers, params=params, timeout=self.timeout)
        except requests.exceptions.ConnectionError as exc:
            raise ConnectionError(f"Failed to connect to {url}: {exc}") from None
        except requests.exceptions.Timeout:
            raise TransientError(f"{url} did not answer within {self.timeout}s") from None
        if response.status_code in (401, 403):
            raise AuthenticationError(f"{url}: HTTP {response.status_code}: invalid API key")
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientError(f"{url}: server error HTTP {response.status_code}")
        if response.status_code >= 400:
            raise ConnectionError(f"{url}: HTTP {response.status_code}")
        logger.debug("GET %s %s -> %d", url, params, response.status_code)
        body: dict[str, Any] = response.json()
        return body
