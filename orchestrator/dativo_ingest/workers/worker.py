"""``dativo worker``: poll a task queue and run the jobs it hands out."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import Worker

from dativo_ingest.logs import get_logger
from dativo_ingest.workers.activity import JobRunner
from dativo_ingest.workers.workflow import JobWorkflow

log = get_logger(__name__)


async def serve(client: Client, task_queue: str, slots: int, name: str | None = None) -> None:
    """Run up to ``slots`` jobs at once until SIGINT/SIGTERM; then the runs in progress are
    cancelled (each stops its connectors with grace) and Temporal retries them elsewhere."""
    worker_name = name or f"{socket.gethostname()}:{os.getpid()}"
    runner = JobRunner(worker_name, Path.cwd())
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[JobWorkflow],
        activities=[runner.run],
        max_concurrent_activities=slots,
        identity=worker_name,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    log.info("worker %s: %d slot(s) on task queue %r", worker_name, slots, task_queue)
    async with worker:
        await stop.wait()
        log.info("worker %s stopping", worker_name)
