"""Job file models. Unknown keys are errors; everything is read-only once validated."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from dativo_ingest.protocol.names import ProtocolName
from dativo_ingest.runtime.options import RuntimeOptions

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]+$", min_length=1)]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]
_UNITS = {"s": 1, "m": 60, "h": 3600}
DEFAULT_IDLE_TIMEOUT = 3600.0  # an hour without a byte from the source, or read by the target


def _seconds(value: Any) -> Any:
    """``90``, ``"90s"``, ``"15m"``, ``"2h"`` -> seconds; anything else is left to fail."""
    if isinstance(value, str) and value[-1:] in _UNITS:
        try:
            return float(value[:-1]) * _UNITS[value[-1]]
        except ValueError:
            pass
    return value


Seconds = Annotated[float, BeforeValidator(_seconds), Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Side(_Strict):
    """One side of a job: which connector to run and the config handed to it.

    Name it from the registry (``connector``, optional ``variant``), or give a program
    (``executable``: on PATH or relative to the job file), or a PyPI package and the program
    it provides (``pip_url`` + ``executable``).
    """

    connector: NonEmpty | None = None
    variant: NonEmpty | None = None
    pip_url: NonEmpty | None = None
    executable: NonEmpty | None = None
    protocol: ProtocolName | None = None
    config: dict[str, Any] = {}
    runtime: RuntimeOptions | None = None

    @model_validator(mode="after")
    def _one_way_to_find_it(self) -> Side:
        if self.connector and (self.pip_url or self.executable):
            raise ValueError("give `connector`, or `executable` (with an optional `pip_url`)")
        if not self.connector and not self.executable:
            raise ValueError("name the connector with `connector:` (registry) or `executable:`")
        if self.variant and not self.connector:
            raise ValueError("`variant` goes with `connector`")
        return self


class StreamMetadata(_Strict):
    """Per-stream overrides of the discovered catalog."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    replication_method: Literal["FULL_TABLE", "INCREMENTAL", "LOG_BASED"] | None = Field(
        None, alias="replication-method"
    )
    replication_key: str | None = Field(None, alias="replication-key")
    key_properties: list[str] | None = Field(None, alias="key-properties")


class SourceSide(Side):
    """The source side: ``catalog`` names a Singer catalog file relative to the job file;
    ``select`` (Meltano patterns) and ``metadata`` (per-stream overrides) shape the catalog;
    ``assets`` names the data contracts, ``{stream: file}`` or a folder of ``*.yaml`` files,
    relative to the project root (see ``config.assets``)."""

    catalog: str | None = None
    assets: dict[NonEmpty, NonEmpty] | NonEmpty | None = None
    select: list[NonEmpty] | None = None
    metadata: dict[str, StreamMetadata] = {}


class TargetSide(Side):
    """The target side. ``destination_sync_mode`` is what an Airbyte destination is told."""

    destination_sync_mode: Literal["append", "overwrite", "append_dedup"] = "append"


class TransformSide(Side):
    """One mapper connector of ``transforms:``, run between the source and the target with
    its own ``config`` (a Meltano mapping's config, e.g. ``stream_maps``)."""


class RetryPolicy(_Strict):
    """``retry:`` of a job: how often, and how long apart, a run that failed for a transient
    reason is started again (``retry: true`` takes these defaults)."""

    attempts: int = Field(3, ge=1, le=100)
    initial_delay: Seconds = 10.0
    multiplier: float = Field(2.0, ge=1)
    max_delay: Seconds = 300.0
    jitter: float = Field(0.1, ge=0, le=1)

    def delay(self, attempt: int, draw: float) -> float:
        """Seconds to wait after failed ``attempt`` (1-based); ``draw`` in [0, 1) spreads
        it by up to ``jitter`` either way."""
        base = min(self.initial_delay * self.multiplier ** (attempt - 1), self.max_delay)
        return max(0.0, base * (1 + self.jitter * (2 * draw - 1)))


class JobConfig(_Strict):
    """A job file: one source piped into one target (through the mapper connectors of
    ``transforms``, in order), with its own state.

    ``timeout`` bounds the whole run; ``idle_timeout`` how long the source may send nothing,
    or the target read nothing, before the run is stopped (seconds, or ``90s``/``15m``/``2h``).
    """

    tenant_id: Identifier
    name: Identifier
    source: SourceSide
    target: TargetSide
    transforms: list[TransformSide] = []
    runtime: RuntimeOptions | None = None
    retry: RetryPolicy | None = None
    timeout: Seconds | None = None
    idle_timeout: Seconds = DEFAULT_IDLE_TIMEOUT
    stream_maps: dict[str, Any] | None = None  # checked by protocol.stream_maps

    @field_validator("retry", mode="before")
    @classmethod
    def _retry_switch(cls, value: Any) -> Any:
        """``retry: true`` -> the default policy; ``retry: false`` -> no retries."""
        if value is True:
            return {}
        return None if value is False else value

    @property
    def state_id(self) -> str:
        """The key of this job's state and lock: ``<tenant_id>/<name>``."""
        return f"{self.tenant_id}/{self.name}"
