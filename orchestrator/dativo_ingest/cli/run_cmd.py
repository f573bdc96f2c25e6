"""``dativo run JOB``."""

from __future__ import annotations

import argparse

from dativo_ingest.pipeline.progress import DEFAULT_PROGRESS_SECONDS
from dativo_ingest.pipeline.signals import DEFAULT_GRACE_SECONDS


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("run", help="run a job: source -> target, saving confirmed state")
    parser.add_argument("job", help="path of the job file (YAML)")
    parser.add_argument(
        "--full-refresh", action="store_true", help="ignore the stored state and extract everything"
    )
    parser.add_argument(
        "--grace-seconds",
        type=float,
        default=DEFAULT_GRACE_SECONDS,
        help="after SIGINT/SIGTERM, wait this long before SIGKILL (default: %(default)s)",
    )
    parser.add_argument(
        "--refresh-catalog",
        action="store_true",
        help="discover the tap's streams again instead of using the cached catalog",
    )
    parser.add_argument(
        "--progress-seconds",
        type=float,
        default=DEFAULT_PROGRESS_SECONDS,
        help="without a terminal, log a progress line this often (default: %(default)s)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from dativo_ingest.config import load_job
    from dativo_ingest.pipeline.run import RunOptions, run_job
    from dativo_ingest.state import dativo_home, open_store

    job = load_job(args.job)
    home = dativo_home()
    store = open_store(home)
    try:
        run_job(
            job,
            store,
            RunOptions(
                home,
                args.full_refresh,
                args.refresh_catalog,
                args.grace_seconds,
                args.progress_seconds,
            ),
        )
    finally:
        store.close()
    return 0
