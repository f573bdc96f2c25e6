"""Starting a job's source for discovery alone: ``dativo discover`` and the contract commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson

from dativo_ingest.catalog.offer import OfferedStream, current_offer
from dativo_ingest.config import Job
from dativo_ingest.install.programs import program_for
from dativo_ingest.pipeline.workdir import private_workdir, write_private
from dativo_ingest.runtime import Launch
from dativo_ingest.runtime.options import effective_runtime
from dativo_ingest.runtime.program import Program


@dataclass(frozen=True)
class SourceLaunch:
    """The job's source program, its config in a private file, and how to start it."""

    program: Program
    config_file: Path
    launch: Launch


@contextmanager
def source_launch(job: Job) -> Iterator[SourceLaunch]:
    """Install the source if needed and write its config into a private folder, removed on
    exit."""
    home = job.project.home
    program = program_for(job.source, "source", home)
    with private_workdir(home) as workdir:
        config = write_private(workdir / "source-config.json", orjson.dumps(job.source.config))
        runtime = effective_runtime(job.source.runtime, job.definition.runtime, program.runtime)
        yield SourceLaunch(program, config, Launch(runtime, workdir))


def source_offer(job: Job) -> list[OfferedStream]:
    """The streams the job's source offers now (a fresh discovery, selection applied)."""
    with source_launch(job) as source:
        return current_offer(job, source.program, source.config_file, source.launch)
