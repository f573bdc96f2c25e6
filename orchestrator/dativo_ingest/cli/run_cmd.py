"""``dativo run JOB``."""

from __future__ import annotations

import argparse

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
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from dativo_ingest.cli.project_args import open_job
    from dativo_ingest.pipeline.run import RunOptions, run_job
    from dativo_ingest.state import open_store

    job = open_job(args)
    home = job.project.home
    store = open_store(home)
    try:
        run_job(
            job,
            store,
            RunOptions(home, args.full_refresh, args.refresh_catalog, args.grace_seconds),
        )
    finally:
        store.close()
    return 0
