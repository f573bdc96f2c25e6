"""The workflow of one job: the ``dativo run`` activity under the job's retry policy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from dativo_ingest.workers.submission import (
        ACTIVITY_NAME,
        WORKFLOW_NAME,
        JobSubmission,
        RunSummary,
    )

# A run may take long; heartbeats, not this bound, detect a lost worker.
RUN_TIMEOUT = timedelta(days=2)
# Without `retry:`, only what is not the job's fault is retried (a lost worker, the lock held
# by another run), at most this often.
DEFAULT_ATTEMPTS = 20
NON_RETRYABLE_TYPES = ["ConfigurationError"]


def retry_policy(retry: dict[str, Any] | None) -> RetryPolicy:
    """The job's ``retry: {attempts, initial_delay, multiplier, max_delay}`` (seconds) as a
    Temporal retry policy. Jitter is Temporal's own and not configurable."""
    retry = retry or {}
    return RetryPolicy(
        initial_interval=timedelta(seconds=float(retry.get("initial_delay", 1))),
        backoff_coefficient=float(retry.get("multiplier", 2)),
        maximum_interval=timedelta(seconds=float(retry.get("max_delay", 10))),
        maximum_attempts=int(retry.get("attempts", DEFAULT_ATTEMPTS)),
        non_retryable_error_types=NON_RETRYABLE_TYPES,
    )


@workflow.defn(name=WORKFLOW_NAME)
class JobWorkflow:
    """Runs one submitted job; its workflow id is the job's state id."""

    @workflow.run
    async def run(self, job: JobSubmission) -> RunSummary:
        summary: RunSummary = await workflow.execute_activity(
            ACTIVITY_NAME,
            job,
            result_type=RunSummary,
            start_to_close_timeout=RUN_TIMEOUT,
            heartbeat_timeout=timedelta(seconds=job.heartbeat_seconds),
            retry_policy=retry_policy(job.retry),
        )
        return summary
