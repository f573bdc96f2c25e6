"""Job files and projects: models, loading, ``${VAR}`` substitution and secret redaction."""

from dativo_ingest.config.loader import Connector, Job, load_job
from dativo_ingest.config.models import JobConfig, SourceSide, TargetSide
from dativo_ingest.config.project import Project, load_project
from dativo_ingest.config.secrets import Redactor

__all__ = [
    "Connector",
    "Job",
    "JobConfig",
    "Project",
    "Redactor",
    "SourceSide",
    "TargetSide",
    "load_job",
    "load_project",
]
