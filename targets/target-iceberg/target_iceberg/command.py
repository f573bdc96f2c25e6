"""The ``target-iceberg`` console script and ``python -m target_iceberg``: the command in
``target_iceberg.cli``, run by the connector kit's ``console.run`` (no interpreter teardown)."""

from __future__ import annotations

import typing as t

from dativo_connector_kit import console


def command() -> t.NoReturn:
    """Run ``target-iceberg``; exit with its status."""
    console.run("target_iceberg.cli")
