"""The ``target-jsonl`` console script (and ``python -m target_jsonl``): the target's modules
are imported with the garbage collector paused, and what they made is then frozen out of its
collections (its passes over modules and classes, which hold nothing to collect, took ~2 ms of
every run); then ``main`` runs and the process exits without the interpreter's teardown
(errors and ``--help`` exit through ``SystemExit`` as usual)."""

from __future__ import annotations

import gc
import typing as t


def command() -> t.NoReturn:
    """Import and run ``target_jsonl.cli.main``; exit with its status."""
    gc.disable()
    try:
        from dativo_connector_kit.target_cli import exit_at_once
        from target_jsonl.cli import main
    finally:
        gc.freeze()
        gc.enable()
    exit_at_once(main())
