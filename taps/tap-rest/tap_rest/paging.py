"""Pagination styles: each makes singer-sdk paginators and puts their token in the request.

Every style stops at the first page without records (singer-sdk's rule); ``page`` also stops
after the last page the body announces, ``cursor`` when the body has no next token, and
``link_header`` when the ``Link`` header has no ``rel="next"``.
"""

from __future__ import annotations

import typing as t

from singer_sdk.pagination import (
    BaseAPIPaginator,
    HeaderLinkPaginator,
    PageNumberPaginator,
    SinglePagePaginator,
)

from dativo_connector_kit import ConfigurationError

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from urllib.parse import ParseResult

    import requests
    from singer_sdk.streams.rest import HTTPRequest

    from tap_rest.pages import PageReader
    from tap_rest.spec import PaginationSpec


class Pagination(t.Protocol):
    """One pagination style, configured for one stream."""

    def paginator(self) -> BaseAPIPaginator:
        """A fresh paginator for one pass over the endpoint."""

    def send(self, request: HTTPRequest, token: t.Any) -> None:
        """Put the paginator's current token (``None`` before the first page) in ``request``."""


class SinglePage:
    """``none``: one request."""

    def __init__(self, spec: PaginationSpec, reader: PageReader) -> None:
        """Nothing to configure."""

    def paginator(self) -> BaseAPIPaginator:
        """Stops after the first page."""
        return SinglePagePaginator()

    def send(self, request: HTTPRequest, token: t.Any) -> None:
        """No token to send."""


class _PagesUpTo(PageNumberPaginator):
    """Page numbers, up to the page count the body announces, if it does."""

    def __init__(self, spec: PaginationSpec, reader: PageReader) -> None:
        super().__init__(spec.start_page)
        self._spec = spec
        self._reader = reader

    def has_more(self, response: requests.Response) -> bool:
        path = self._spec.total_pages_path
        total = path.first(self._reader.body(response)) if path is not None else None
        if total is None:
            return True
        try:
            last_page = self._spec.start_page + int(total) - 1
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(
                f"total_pages_path {path.expression!r} leads to {total!r}, not a page count"
            ) from exc
        return self.current_value < last_page


class PageNumbers:
    """``page``: ``page_param`` = 1, 2, 3..."""

    def __init__(self, spec: PaginationSpec, reader: PageReader) -> None:
        """Count pages from ``spec.start_page``."""
        self._spec = spec
        self._reader = reader

    def paginator(self) -> BaseAPIPaginator:
        """Next page number until an empty page or the announced last one."""
        return _PagesUpTo(self._spec, self._reader)

    def send(self, request: HTTPRequest, token: t.Any) -> None:
        """``page_param=<page number>``."""
        request.params[self._spec.page_param] = token


class _Offsets(BaseAPIPaginator[int]):
    """Offsets advanced by the number of records actually received."""

    def __init__(self, reader: PageReader) -> None:
        super().__init__(0)
        self._reader = reader

    def get_next(self, response: requests.Response) -> int:
        return self.current_value + len(self._reader.records(response))


class Offsets:
    """``offset``: ``offset_param`` = 0, then the count of records received so far."""

    def __init__(self, spec: PaginationSpec, reader: PageReader) -> None:
        """Offsets start at 0."""
        self._spec = spec
        self._reader = reader

    def paginator(self) -> BaseAPIPaginator:
        """Next offset until an empty page."""
        return _Offsets(self._reader)

    def send(self, request: HTTPRequest, token: t.Any) -> None:
        """``offset_param=<offset>``."""
        request.params[self._spec.offset_param] = token


class _Cursors(BaseAPIPaginator[t.Any]):
    """Tokens read from the body; a missing, null or empty token ends the pass."""

    def __init__(self, spec: PaginationSpec, reader: PageReader) -> None:
        super().__init__(None)
        self._spec = spec
        self._reader = reader

    def get_next(self, response: requests.Response) -> t.Any:
        path = self._spec.cursor_path
        return path.first(self._reader.body(response)) if path is not None else None


class Cursors:
    """``cursor``: ``cursor_param`` = the token found at ``cursor_path`` in the last body."""

    def __init__(self, spec: PaginationSpec, reader: PageReader) -> None:
        """Read tokens at ``spec.cursor_path``."""
        self._spec = spec
        self._reader = reader

    def paginator(self) -> BaseAPIPaginator:
        """Next token until there is none."""
        return _Cursors(self._spec, self._reader)

    def send(self, request: HTTPRequest, token: t.Any) -> None:
        """``cursor_param=<token>`` from the second page on."""
        if token is not None:
            request.params[self._spec.cursor_param] = token


class LinkHeader:
    """``link_header``: follow the URL of the ``Link`` header's ``rel="next"``."""

    def __init__(self, spec: PaginationSpec, reader: PageReader) -> None:
        """Nothing to configure."""

    def paginator(self) -> BaseAPIPaginator:
        """Next link until there is none."""
        return HeaderLinkPaginator()

    def send(self, request: HTTPRequest, token: ParseResult | None) -> None:
        """From the second page on, request the next link as is: it carries its parameters."""
        if token is not None:
            request.url = token.geturl()
            request.params = {}


STYLES: dict[str, Callable[[PaginationSpec, PageReader], Pagination]] = {
    "none": SinglePage,
    "page": PageNumbers,
    "offset": Offsets,
    "cursor": Cursors,
    "link_header": LinkHeader,
}


def pagination_for(spec: PaginationSpec, reader: PageReader) -> Pagination:
    """The configured pagination style of a stream."""
    return STYLES[spec.type](spec, reader)
