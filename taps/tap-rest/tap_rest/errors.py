"""HTTP failures, and their translation into the connector kit's errors and exit codes.

Inside a stream, failures follow singer-sdk's conventions (``FatalAPIError`` is not retried,
``RetriableAPIError`` is); :func:`kit_errors` maps what is left after the retries to the kit's
classes. Messages name the scheme, host and path, never the query string, which may carry an
API key.
"""

from __future__ import annotations

import typing as t
from contextlib import contextmanager
from urllib.parse import urlsplit

import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

import dativo_connector_kit as kit

if t.TYPE_CHECKING:
    from collections.abc import Iterator

#: Failures worth another attempt (with :class:`RetriableAPIError`, raised for 429 and 5xx).
RETRIED: tuple[type[Exception], ...] = (
    RetriableAPIError,
    ConnectionResetError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class HTTPStatusError(FatalAPIError):
    """A response with a status that retrying cannot fix (4xx other than 429)."""

    def __init__(self, message: str, response: requests.Response) -> None:
        """Keep the response for the caller."""
        super().__init__(message)
        self.response = response


class CredentialsRefusedError(HTTPStatusError):
    """HTTP 401 or 403: the API refused the credentials. Never retried."""


def where(request: requests.PreparedRequest | None) -> str:
    """``METHOD scheme://host/path`` of a request, without its query string."""
    if request is None or not request.url:
        return "the request"
    url = urlsplit(request.url)
    return f"{request.method} {url.scheme}://{url.netloc}{url.path}"


def _reason(exc: requests.exceptions.RequestException) -> str:
    """The low-level cause (``Connection refused``, ``Read timed out``), without the URL."""
    cause = exc.args[0] if exc.args else exc
    return str(getattr(cause, "reason", cause))


@contextmanager
def kit_errors(stream: str, retries: int) -> Iterator[None]:
    """Re-raise the failures of one stream's (already retried) requests as kit errors."""
    try:
        yield
    except CredentialsRefusedError as exc:
        raise kit.AuthenticationError(
            f"stream {stream!r}: {exc}; the API refused the credentials: check the `auth` "
            "setting (not retried)"
        ) from exc
    except HTTPStatusError as exc:
        raise kit.ConnectorError(f"stream {stream!r}: {exc}") from exc
    except RetriableAPIError as exc:
        raise kit.TransientError(
            f"stream {stream!r}: {exc}; still failing after retrying (max_retries={retries})"
        ) from exc
    except requests.exceptions.ConnectionError as exc:
        raise kit.ConnectionError(
            f"stream {stream!r}: cannot connect for {where(exc.request)}: {_reason(exc)} "
            f"(max_retries={retries})"
        ) from exc
    except (
        requests.exceptions.Timeout,
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ContentDecodingError,
    ) as exc:
        raise kit.TransientError(
            f"stream {stream!r}: {where(exc.request)} failed: {type(exc).__name__}: "
            f"{_reason(exc)} (max_retries={retries})"
        ) from exc
    except ConnectionResetError as exc:
        raise kit.ConnectionError(
            f"stream {stream!r}: the connection was reset: {exc} (max_retries={retries})"
        ) from exc
    except (
        requests.exceptions.InvalidURL,
        requests.exceptions.InvalidSchema,
        requests.exceptions.MissingSchema,
        requests.exceptions.InvalidHeader,
    ) as exc:
        raise kit.ConfigurationError(
            f"stream {stream!r}: cannot build the request: {type(exc).__name__}: {exc}"
        ) from exc
