"""The project a command works in: from the job file it names, or the current folder."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from dativo_ingest.config import Job, Project, load_job, load_project

if TYPE_CHECKING:
    from dativo_ingest.registry import Registry


def open_job(args: argparse.Namespace, job_file: str | None = None) -> Job:
    """Load ``job_file`` (default ``args.job``) and move into its project root, where
    connectors run: relative paths in connector configs are relative to the root, wherever
    dativo was started."""
    job = load_job(Path(job_file or args.job).resolve(), environment=args.environment)
    os.chdir(job.project.root)
    return job


def current_project(args: argparse.Namespace) -> Project:
    """The project holding the current folder (or the current folder itself)."""
    return load_project(Path.cwd(), args.environment)


def project_registry(project: Project) -> Registry:
    from dativo_ingest.registry import load_registry

    return load_registry(None, project.root, project.registry_files)
