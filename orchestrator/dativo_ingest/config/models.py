"""Job file models. Unknown keys are errors; everything is read-only once validated
(``schema.validate`` builds them from the job file's data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from dativo_ingest.protocol.names import ProtocolName
from dativo_ingest.runtime.options import RuntimeOptions
from dativo_ingest.schema import Before, Bound, MinLen, Pattern, alias

Identifier = Annotated[str, MinLen(1), Pattern(r"^[a-z0-9_-]+$")]
NonEmpty = Annotated[str, MinLen(1)]
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


def _retry_switch(value: Any) -> Any:
    """``retry: true`` -> the default policy; ``retry: false`` -> no retries."""
    if value is True:
        return {}
    return None if value is False else value


Seconds = Annotated[float, Before(_seconds), Bound("gt", 0)]


@dataclass(frozen=True)
class Side:
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
    config: dict[str, Any] = field(default_factory=dict)
    runtime: RuntimeOptions | None = None

    def __post_init__(self) -> None:
        if self.connector and (self.pip_url or self.executable):
            raise ValueError("give `connector`, or `executable` (with an optional `pip_url`)")
        if not self.connector and not self.executable:
            raise ValueError("name the connector with `connector:` (registry) or `executable:`")
        if self.variant and not self.connector:
            raise ValueError("`variant` goes with `connector`")


@dataclass(frozen=True)
class StreamMetadata:
    """Per-stream overrides of the discovered catalog (each key also in its Meltano spelling,
    ``replication-method``)."""

    replication_method: Literal["FULL_TABLE", "INCREMENTAL", "LOG_BASED"] | None = field(
        default=None, metadata=alias("replication-method")
    )
    replication_key: str | None = field(default=None, metadata=alias("replication-key"))
    key_properties: list[str] | None = field(default=None, metadata=alias("key-properties"))


@dataclass(frozen=True)
class SourceSide(Side):
    """The source side: ``catalog`` names a Singer catalog file relative to the job file;
    ``select`` (Meltano patterns) and ``metadata`` (per-stream overrides) shape the catalog;
    ``assets`` names the data contracts, ``{stream: file}`` or a folder of ``*.yaml`` files,
    relative to the project root (see ``config.assets``)."""

    catalog: str | None = None
    assets: dict[NonEmpty, NonEmpty] | NonEmpty | None = None
    select: list[NonEmpty] | None = None
    metadata: dict[str, StreamMetadata] = field(default_factory=dict)


@dataclass(frozen=True)
class TargetSide(Side):
    """The target side. ``destination_sync_mode`` is what an Airbyte destination is told."""

    destination_sync_mode: Literal["append", "overwrite", "append_dedup"] = "append"


class TransformSide(Side):  # a dataclass by inheritance: no field of its own
    """One mapper connector of ``transforms:``, run between the source and the target with
    its own ``config`` (a Meltano mapping's config, e.g. ``stream_maps``)."""


@dataclass(frozen=True)
class RetryPolicy:
    """``retry:`` of a job: how often, and how long apart, a run that failed for a transient
    reason is started again (``retry: true`` takes these defaults)."""

    attempts: Annotated[int, Bound("ge", 1), Bound("le", 100)] = 3
    initial_delay: Seconds = 10.0
    multiplier: Annotated[float, Bound("ge", 1)] = 2.0
    max_delay: Seconds = 300.0
    jitter: Annotated[float, Bound("ge", 0), Bound("le", 1)] = 0.1

    def delay(self, attempt: int, draw: float) -> float:
        """Seconds to wait after failed ``attempt`` (1-based); ``draw`` in [0, 1) spreads
        it by up to ``jitter`` either way."""
        base = min(self.initial_delay * self.multiplier ** (attempt - 1), self.max_delay)
        return max(0.0, base * (1 + self.jitter * (2 * draw - 1)))


@dataclass(frozen=True)
class JobConfig:
    """A job file: one source piped into one target (through the mapper connectors of
    ``transforms``, in order), with its own state.

    ``timeout`` bounds the whole run; ``idle_timeout`` how long the source may send nothing,
    or the target read nothing, before the run is stopped (seconds, or ``90s``/``15m``/``2h``).
    """

    tenant_id: Identifier
    name: Identifier
    source: SourceSide
    target: TargetSide
    transforms: list[TransformSide] = field(default_factory=list)
    runtime: RuntimeOptions | None = None
    retry: Annotated[RetryPolicy | None, Before(_retry_switch)] = None
    timeout: Seconds | None = None
    idle_timeout: Seconds = DEFAULT_IDLE_TIMEOUT
    stream_maps: dict[str, Any] | None = None  # checked by protocol.stream_maps

    @property
    def state_id(self) -> str:
        """The key of this job's state and lock: ``<tenant_id>/<name>``."""
        return f"{self.tenant_id}/{self.name}"
