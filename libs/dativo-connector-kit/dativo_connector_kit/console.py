"""A lean target's console script: ``run("target_x.cli")`` imports the target's command with
the garbage collector paused (then frozen out of its collections: its passes over freshly
made modules and classes, which hold nothing to collect, cost ~2 ms of every run), runs its
``main`` and ends the process without the interpreter's teardown. Errors and ``--help`` leave
through ``SystemExit`` as usual."""

from __future__ import annotations

import gc
import importlib
import os
import sys
import typing as t


def run(cli_module: str) -> t.NoReturn:
    """Import ``cli_module``, call its ``main()`` and exit with the status it returns."""
    gc.disable()
    try:
        main = importlib.import_module(cli_module).main
    finally:
        gc.freeze()
        gc.enable()
    exit_at_once(main())


def exit_at_once(code: int) -> t.NoReturn:
    """End the process with ``code`` once stdout and stderr are flushed, without the
    interpreter's teardown (freeing every module and object: ~8 ms for target-jsonl, more
    with psycopg or pyarrow loaded). For a console script, after ``main`` returned: its files
    and connections are closed and what it committed is durable by then."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
