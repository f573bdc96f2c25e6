"""The ``target-parquet`` console script and ``python -m target_parquet``: the command in
``target_parquet.cli``, run by the connector kit's ``console.run`` (no interpreter teardown)."""

from __future__ import annotations

import typing as t

from dativo_connector_kit import console


def command() -> t.NoReturn:
    """Run ``target-parquet``; exit with its status."""
    console.run("target_parquet.cli")
