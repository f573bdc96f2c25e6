"""Authenticators: singer-sdk's, built from the ``auth`` setting."""

from __future__ import annotations

import typing as t

from singer_sdk.authenticators import (
    APIAuthenticatorBase,
    APIKeyAuthenticator,
    BasicAuthenticator,
    BearerTokenAuthenticator,
)

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_rest.spec import AuthSpec

LOCATIONS = {"header": "header", "query": "params"}

BUILDERS: dict[str, Callable[[AuthSpec], APIAuthenticatorBase]] = {
    "none": lambda spec: APIAuthenticatorBase(),
    "bearer": lambda spec: BearerTokenAuthenticator(token=spec.token),
    "api_key": lambda spec: APIKeyAuthenticator(
        key=spec.name, value=spec.value, location=LOCATIONS[spec.location]
    ),
    "basic": lambda spec: BasicAuthenticator(username=spec.username, password=spec.password),
}


def authenticator_for(spec: AuthSpec) -> APIAuthenticatorBase:
    """The authenticator adding ``spec``'s credentials to every request."""
    return BUILDERS[spec.type](spec)
