"""Each authentication style, as the server receives it; secrets stay out of the logs."""

from __future__ import annotations

import base64

import pytest

SECRET = "s3cr3t-value-123"
SCHEMA = {"properties": {"id": {"type": "integer"}}}


@pytest.mark.parametrize(
    ("auth", "header", "expected", "query"),
    [
        ({"type": "bearer", "token": SECRET}, "authorization", f"Bearer {SECRET}", {}),
        (
            {"type": "api_key", "name": "X-Token", "value": SECRET},
            "x-token",
            SECRET,
            {},
        ),
        ({"type": "api_key", "value": SECRET}, "x-api-key", SECRET, {}),
        (
            {"type": "api_key", "name": "key", "value": SECRET, "in": "query"},
            None,
            None,
            {"key": SECRET},
        ),
        (
            {"type": "basic", "username": "ada", "password": SECRET},
            "authorization",
            "Basic " + base64.b64encode(f"ada:{SECRET}".encode()).decode(),
            {},
        ),
    ],
    ids=["bearer", "api-key-header", "api-key-default-name", "api-key-query", "basic"],
)
def test_auth_style_reaches_the_server(api, run_tap, auth, header, expected, query) -> None:
    api.route("/me", lambda seen: [{"id": 1}])
    config = api.config(
        {"name": "me", "path": "/me", "schema": SCHEMA, "params": {"fields": "id"}},
        auth=auth,
        headers={"Accept": "application/json", "X-Tenant": "acme"},
    )

    run = run_tap(config)

    assert run.returncode == 0, run.stderr
    assert run.records() == [{"id": 1}]
    (seen,) = api.requests_to("/me")
    assert seen.query == {"fields": "id", **query}
    assert seen.headers["x-tenant"] == "acme"
    assert seen.headers["accept"] == "application/json"
    if header is not None:
        assert seen.headers[header] == expected
    else:
        assert "authorization" not in seen.headers
    assert SECRET not in run.stderr


def test_query_key_stays_out_of_error_messages(api, run_tap) -> None:
    api.route("/me", lambda seen: (500, {"error": "down"}))
    auth = {"type": "api_key", "name": "key", "value": SECRET, "in": "query"}

    run = run_tap(api.config({"name": "me", "path": "/me", "schema": SCHEMA}, auth=auth))

    assert run.returncode == 5
    assert all(seen.query == {"key": SECRET} for seen in api.requests_to("/me"))
    assert f"GET {api.url}/me" in run.stderr
    assert SECRET not in run.stderr
