"""``dativo submit JOB...``: queue jobs for the workers."""

from __future__ import annotations

import argparse

from dativo_ingest.cli.temporal_args import add_temporal_options, run, temporal_from
from dativo_ingest.workers.submission import DEFAULT_HEARTBEAT_SECONDS, read_submission


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "submit", help="queue jobs for `dativo worker`s (a job queued or running is not re-run)"
    )
    parser.add_argument("jobs", nargs="+", metavar="JOB", help="job files (YAML)")
    parser.add_argument("--wait", action="store_true", help="wait for the runs and report them")
    parser.add_argument(
        "--full-refresh", action="store_true", help="ignore the stored state and extract everything"
    )
    parser.add_argument(
        "--heartbeat-timeout",
        type=float,
        default=DEFAULT_HEARTBEAT_SECONDS,
        metavar="SECONDS",
        help="a worker silent this long is taken as lost; its job moves (default: %(default)s)",
    )
    add_temporal_options(parser)
    parser.set_defaults(handler=submit_jobs)


def submit_jobs(args: argparse.Namespace) -> int:
    where = temporal_from(args)
    jobs = [read_submission(p, args.full_refresh, args.heartbeat_timeout) for p in args.jobs]
    from dativo_ingest.workers.client import connect, submit, wait

    async def main() -> int:
        client = await connect(where)
        handles = []
        for job in jobs:
            handle, started = await submit(client, where, job)
            print(f"{job.state_id}\t{'submitted' if started else 'already queued or running'}")
            handles.append(handle)
        if args.wait:
            for handle in handles:
                summary = await wait(handle)
                print(
                    f"{summary.state_id}\tsucceeded on {summary.worker} (attempt"
                    f" {summary.attempt}) in {summary.duration_s:.2f}s: {summary.records:,} records"
                )
        return 0

    return run(main())
