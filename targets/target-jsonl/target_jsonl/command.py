"""The ``target-jsonl`` console script and ``python -m target_jsonl``: the command in
``target_jsonl.cli``, run by the connector kit's ``console.run`` (no interpreter teardown)."""

from __future__ import annotations

import typing as t

from dativo_connector_kit import console


def command() -> t.NoReturn:
    """Run ``target-jsonl``; exit with its status."""
    console.run("target_jsonl.cli")
