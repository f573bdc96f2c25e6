"""Job file models. Unknown keys are errors; everything is read-only once validated."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]+$", min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConnectorConfig(_Strict):
    """One side of a job: which program to run and the config handed to it."""

    executable: Annotated[str, StringConstraints(min_length=1)]
    config: dict[str, Any] = {}


class SourceConfig(ConnectorConfig):
    """The source side. ``catalog`` names a Singer catalog file, relative to the job file."""

    catalog: str | None = None


class TargetConfig(ConnectorConfig):
    """The target side."""


class JobConfig(_Strict):
    """A job file: one source piped into one target, with its own state."""

    tenant_id: Identifier
    name: Identifier
    source: SourceConfig
    target: TargetConfig

    @property
    def state_id(self) -> str:
        """The key of this job's state and lock: ``<tenant_id>/<name>``."""
        return f"{self.tenant_id}/{self.name}"
