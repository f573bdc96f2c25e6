"""Talking to Temporal: connect, submit jobs, wait for them."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from dativo_ingest.exceptions import ConfigurationError, DativoError, RunFailedError
from dativo_ingest.workers.submission import WORKFLOW_NAME, JobSubmission, RunSummary


@dataclass(frozen=True)
class Temporal:
    """Where the Temporal service is, and the task queue dativo's workers poll."""

    address: str
    namespace: str
    task_queue: str


async def connect(where: Temporal) -> Client:
    try:
        return await Client.connect(where.address, namespace=where.namespace)
    except RuntimeError as exc:
        raise DativoError(
            f"cannot reach Temporal at {where.address} (namespace {where.namespace}): {exc};"
            " start one with `dativo server`, or pass --temporal HOST:PORT"
        ) from None


async def submit(
    client: Client, where: Temporal, job: JobSubmission
) -> tuple[WorkflowHandle[object, RunSummary], bool]:
    """Start the job's workflow; its id is the job's state id, so a job already queued or
    running is not started again. Returns its handle and whether it was started now."""
    try:
        handle = await client.start_workflow(
            WORKFLOW_NAME,
            job,
            id=job.state_id,
            task_queue=where.task_queue,
            result_type=RunSummary,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        return client.get_workflow_handle(job.state_id, result_type=RunSummary), False
    return handle, True


async def wait(handle: WorkflowHandle[object, RunSummary]) -> RunSummary:
    """The run's summary; a failed run raises the DativoError matching its cause."""
    try:
        return await handle.result()
    except WorkflowFailureError as exc:
        cause = exc.cause
        while cause.__cause__ is not None and not isinstance(cause, ApplicationError):
            cause = cause.__cause__
        message = f"job {handle.id} failed: {cause}"
        if isinstance(cause, ApplicationError) and cause.type == ConfigurationError.__name__:
            raise ConfigurationError(message) from None
        raise RunFailedError(message) from None
