"""``dativo schedule create|list|pause|unpause|trigger|delete|backfill``."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from dativo_ingest.cli.table import table_lines
from dativo_ingest.cli.temporal_args import add_temporal_options, run, temporal_from
from dativo_ingest.exceptions import ConfigurationError
from dativo_ingest.workers.submission import read_submission


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("schedule", help="run jobs on a cron schedule, on Temporal")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="schedule a job (its id is the job's state id)")
    create.add_argument("job", help="job file (YAML)")
    create.add_argument("--cron", required=True, help='cron expression, e.g. "0 * * * *"')
    create.add_argument("--timezone", help="IANA time zone of the cron (default: UTC)")
    create.set_defaults(handler=create_schedule)
    lister = actions.add_parser("list", help="list schedules (runs, skipped overlaps, next run)")
    lister.add_argument("--json", action="store_true", help="print a JSON list")
    lister.set_defaults(handler=list_schedules)
    for action, text in (
        ("pause", "stop starting runs"),
        ("unpause", "start runs again"),
        ("trigger", "run now, unless a run of it is going"),
        ("delete", "remove the schedule (runs going on finish)"),
    ):
        sub = actions.add_parser(action, help=text)
        sub.add_argument("schedule_id", type=_schedule_id, help="<tenant_id>/<name> or JOB")
        sub.set_defaults(handler=act_on_schedule)
    backfill = actions.add_parser(
        "backfill", help="run what the schedule would have run in a past period, one at a time"
    )
    backfill.add_argument("schedule_id", type=_schedule_id, help="<tenant_id>/<name> or JOB")
    backfill.add_argument("--from", dest="start", required=True, type=_time, help="ISO time")
    backfill.add_argument("--to", dest="end", required=True, type=_time, help="ISO time")
    backfill.set_defaults(handler=backfill_schedule)
    for sub in actions.choices.values():
        add_temporal_options(sub)


def _schedule_id(text: str) -> str:
    """A schedule id, or a job file whose state id is the schedule's id."""
    if text.endswith((".yaml", ".yml")) and Path(text).is_file():
        return read_submission(text).state_id
    return text


def _time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO time: {text!r}") from None
    return value if value.tzinfo else value.astimezone()


def create_schedule(args: argparse.Namespace) -> int:
    where = temporal_from(args)
    job = read_submission(args.job)
    from dativo_ingest.workers import schedules
    from dativo_ingest.workers.client import connect

    async def main() -> int:
        await schedules.create(await connect(where), where, job, args.cron, args.timezone)
        print(f"{job.state_id}\tscheduled: {args.cron}")
        return 0

    return run(main())


def list_schedules(args: argparse.Namespace) -> int:
    where = temporal_from(args)
    from dativo_ingest.workers import schedules
    from dativo_ingest.workers.client import connect

    async def main() -> int:
        found = await schedules.rows(await connect(where))
        if args.json:
            print(orjson.dumps(found, option=orjson.OPT_INDENT_2).decode())
            return 0
        for line in table_lines([_LIST_COLUMNS, *(_list_row(row) for row in found)]):
            print(line)
        return 0

    return run(main())


_LIST_COLUMNS = ("SCHEDULE", "CRON", "STATE", "RUNS", "SKIPPED", "RUNNING", "NEXT RUN")


def _list_row(row: dict[str, Any]) -> tuple[str, ...]:
    return (
        row["id"],
        row["cron"],
        "paused" if row["paused"] else "active",
        str(row["runs"]),
        str(row["skipped_overlap"]),
        str(row["running"]),
        row["next_run"] or "-",
    )


def act_on_schedule(args: argparse.Namespace) -> int:
    where = temporal_from(args)
    from dativo_ingest.workers import schedules
    from dativo_ingest.workers.client import connect

    async def main() -> int:
        await schedules.act(await connect(where), args.schedule_id, args.action)
        print(f"{args.schedule_id}\t{args.action}{'d' if args.action.endswith('e') else 'ed'}")
        return 0

    return run(main())


def backfill_schedule(args: argparse.Namespace) -> int:
    if args.end <= args.start:
        raise ConfigurationError("--to must be later than --from")
    where = temporal_from(args)
    from dativo_ingest.workers import schedules
    from dativo_ingest.workers.client import connect

    async def main() -> int:
        await schedules.backfill(await connect(where), args.schedule_id, args.start, args.end)
        print(f"{args.schedule_id}\tbackfill requested: {args.start} .. {args.end}")
        return 0

    return run(main())
