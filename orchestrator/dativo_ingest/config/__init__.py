"""Job files: models, loading, ``${VAR}`` substitution and secret redaction."""

from dativo_ingest.config.loader import Connector, Job, load_job
from dativo_ingest.config.models import JobConfig, SourceConfig, TargetConfig
from dativo_ingest.config.secrets import Redactor

__all__ = ["Connector", "Job", "JobConfig", "Redactor", "SourceConfig", "TargetConfig", "load_job"]
