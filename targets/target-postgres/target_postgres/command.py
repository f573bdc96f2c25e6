"""The ``target-postgres`` console script and ``python -m target_postgres``: the command in
``target_postgres.cli``, run by the connector kit's ``console.run`` (no interpreter teardown)."""

from __future__ import annotations

import typing as t

from dativo_connector_kit import console


def command() -> t.NoReturn:
    """Run ``target-postgres``; exit with its status."""
    console.run("target_postgres.cli")
