"""``dativo worker``: run submitted and scheduled jobs."""

from __future__ import annotations

import argparse

from dativo_ingest.cli.temporal_args import add_temporal_options, run, temporal_from


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "worker", help="run jobs handed out by Temporal (submitted or scheduled)"
    )
    add_temporal_options(parser)
    parser.add_argument(
        "--slots", type=int, default=2, help="jobs run at once (default: %(default)s)"
    )
    parser.add_argument("--name", help="this worker's name in run history (default: host:pid)")
    parser.set_defaults(handler=start_worker)


def start_worker(args: argparse.Namespace) -> int:
    where = temporal_from(args)
    from dativo_ingest.workers.client import connect
    from dativo_ingest.workers.worker import serve

    async def main() -> int:
        await serve(await connect(where), where.task_queue, args.slots, args.name)
        return 0

    return run(main())
