"""Schedules of jobs on Temporal: a cron per job, overlapping runs skipped, backfills."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleBackfill,
    ScheduleDescription,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.service import RPCError, RPCStatusCode

from dativo_ingest.exceptions import ConfigurationError
from dativo_ingest.workers.client import Temporal
from dativo_ingest.workers.submission import WORKFLOW_NAME, JobSubmission


async def create(
    client: Client, where: Temporal, job: JobSubmission, cron: str, timezone: str | None
) -> None:
    """A schedule whose id is the job's state id; a run still going when the next is due
    makes that one skipped, never stacked."""
    action = ScheduleActionStartWorkflow(
        WORKFLOW_NAME, job, id=job.state_id, task_queue=where.task_queue
    )
    schedule = Schedule(
        action=action,
        spec=ScheduleSpec(cron_expressions=[cron], time_zone_name=timezone),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    try:
        await client.create_schedule(job.state_id, schedule, memo={"cron": cron})
    except ScheduleAlreadyRunningError:
        raise ConfigurationError(
            f"a schedule for {job.state_id} exists; `dativo schedule delete {job.state_id}` first"
        ) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.INVALID_ARGUMENT:
            raise ConfigurationError(f"schedule for {job.state_id}: {exc.message}") from None
        raise


async def describe(client: Client, schedule_id: str) -> ScheduleDescription:
    try:
        return await client.get_schedule_handle(schedule_id).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ConfigurationError(
                f"no schedule {schedule_id!r} (see `dativo schedule list`)"
            ) from None
        raise


async def rows(client: Client) -> list[dict[str, Any]]:
    """Every schedule: id, cron, paused, runs started, runs skipped as overlapping, runs
    going on, next run time."""
    found = []
    async for entry in await client.list_schedules():
        described = await describe(client, entry.id)
        info, memo = described.info, await described.memo()
        upcoming = info.next_action_times
        found.append(
            {
                "id": entry.id,
                "cron": memo.get("cron", "-"),  # the server keeps it only as calendars
                "paused": described.schedule.state.paused,
                "runs": info.num_actions,
                "skipped_overlap": info.num_actions_skipped_overlap,
                "running": len(info.running_actions),
                "next_run": upcoming[0].isoformat(timespec="seconds") if upcoming else None,
            }
        )
    return sorted(found, key=lambda row: row["id"])


async def act(client: Client, schedule_id: str, action: str) -> None:
    """``pause``, ``unpause``, ``trigger`` (now, unless a run is going) or ``delete``."""
    await describe(client, schedule_id)  # a precise error for an unknown id
    handle = client.get_schedule_handle(schedule_id)
    if action == "pause":
        await handle.pause(note="paused with dativo schedule pause")
    elif action == "unpause":
        await handle.unpause(note="unpaused with dativo schedule unpause")
    elif action == "trigger":
        await handle.trigger(overlap=ScheduleOverlapPolicy.SKIP)
    elif action == "delete":
        await handle.delete()
    else:
        raise ValueError(action)


async def backfill(client: Client, schedule_id: str, start: datetime, end: datetime) -> None:
    """Run what the schedule would have run between ``start`` and ``end``, one at a time."""
    await describe(client, schedule_id)
    await client.get_schedule_handle(schedule_id).backfill(
        ScheduleBackfill(start_at=start, end_at=end, overlap=ScheduleOverlapPolicy.BUFFER_ALL)
    )
