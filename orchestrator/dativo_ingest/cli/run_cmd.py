"""``dativo run JOB [JOB ...] [--parallel N]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from dativo_ingest.pipeline.progress import DEFAULT_PROGRESS_SECONDS
from dativo_ingest.pipeline.signals import DEFAULT_GRACE_SECONDS


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("run", help="run jobs: source -> target, saving confirmed state")
    parser.add_argument("jobs", nargs="+", metavar="JOB", help="path of a job file (YAML)")
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
        "--parallel",
        type=int,
        default=1,
        metavar="N",
        help="with several jobs, run N at a time, each in its own process (default: 1)",
    )
    parser.add_argument(
        "--progress-seconds",
        type=float,
        default=DEFAULT_PROGRESS_SECONDS,
        help="without a terminal, log a progress line this often (default: %(default)s)",
    )
    parser.add_argument(
        "--attempt",
        type=int,
        metavar="N",
        help="this run is attempt N of an outer retry (dativo worker): it is recorded as such "
        "and dativo does not retry it itself",
    )
    # a run closes what it opened (store, run log, workdir) and joins its threads: nothing
    # is left for the interpreter's teardown to do (see cli.main.entry)
    parser.set_defaults(handler=run, skip_teardown=True)


def run(args: argparse.Namespace) -> int:
    if len(args.jobs) > 1:
        return _run_many(args)
    from dativo_ingest.cli.project_args import open_job
    from dativo_ingest.pipeline.run import RunOptions, run_job
    from dativo_ingest.state import open_store

    job = open_job(args, args.jobs[0])
    home = job.project.home
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
                args.attempt,
            ),
        )
    finally:
        store.close()
    return 0


def _run_many(args: argparse.Namespace) -> int:
    """Each job in its own ``dativo run``; a summary line per job; the first failure's exit
    code (0 if every job succeeded)."""
    from dativo_ingest.exceptions import ConfigurationError
    from dativo_ingest.pipeline.batch import run_jobs

    if args.parallel < 1:
        raise ConfigurationError("--parallel must be 1 or more")
    passed = ["--grace-seconds", str(args.grace_seconds)]
    passed += ["--progress-seconds", str(args.progress_seconds)]
    passed += ["--full-refresh"] * args.full_refresh + ["--refresh-catalog"] * args.refresh_catalog
    jobs = [Path(job) for job in args.jobs]
    dativo_args = ["--log-format", args.log_format]
    dativo_args += ["--log-level", args.log_level] if args.log_level else []
    dativo_args += ["-v"] * args.verbose
    if args.environment:
        dativo_args += ["--environment", args.environment]
    outcomes = run_jobs(jobs, args.parallel, passed, dativo_args)
    for outcome in outcomes:
        verdict = {None: "not started", 0: "succeeded"}.get(
            outcome.exit_code, f"failed (exit {outcome.exit_code})"
        )
        print(f"{verdict:<20} {outcome.duration_s:7.2f}s  {outcome.job}")
    return next((o.exit_code or 1 for o in outcomes if o.exit_code != 0), 0)
