"""Registry entries: everything dativo needs to know to install and run one connector."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from dativo_ingest.protocol.names import DEFAULT_PROTOCOL, Capability, ProtocolName
from dativo_ingest.runtime.options import RuntimeOptions

ConnectorName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Setting(_Strict):
    """One documented config key of a connector."""

    name: str  # a dotted name (``auth.token``) is a key nested in an object
    kind: Literal["string", "integer", "number", "boolean", "array", "object"] | None = Field(
        "string", description="null: the catalogue the entry came from does not say"
    )
    required: bool = False
    secret: bool = False
    description: str = ""
    default: Any = None
    options: list[Any] | None = None  # the allowed values, when the catalogue lists them


class Incremental(_Strict):
    strategies: list[str] = []


class ConnectorSpec(_Strict):
    """A registry entry: the guide's recipe plus how to install and start the connector."""

    name: ConnectorName
    variant: ConnectorName = "default"
    default: bool = False
    type: Literal["source", "target", "mapper"]
    description: str = ""
    engine: Literal["native"] | ProtocolName
    protocol: ProtocolName = DEFAULT_PROTOCOL
    modes: list[Literal["self_hosted", "cloud"]] = ["self_hosted"]
    incremental: Incremental = Incremental()
    path: str | None = Field(None, description="first-party source folder, relative to the file")
    pip_url: str | None = None
    docker_image: str | None = None
    executable: str | None = None
    entrypoint: str | None = Field(None, description="native connectors: module:Class")
    capabilities: list[Capability] = []
    settings: list[Setting] = []
    settings_groups: list[list[str]] = Field(
        [], description="each group is one set of settings that together make a complete config"
    )
    runtime: RuntimeOptions | None = None  # defaults, e.g. network: none for file targets
    discovery_max_age: float | None = Field(
        None,
        ge=0,
        description="sources: discover again when the cached catalog is older than this many "
        "seconds (0: every run, for database taps); unset: only when the tap or config changed",
    )
    keywords: list[str] = []
    repo: str | None = None
    catalogue: Literal["meltano-hub", "airbyte-pypi"] | None = Field(
        None, description="the public catalogue a generated index entry came from; curated: null"
    )

    @model_validator(mode="after")
    def _one_way_to_install(self) -> ConnectorSpec:
        ways = [w for w in ("path", "pip_url", "docker_image") if getattr(self, w)]
        if len(ways) != 1:
            raise ValueError(
                f"give exactly one of path, pip_url, docker_image (got {ways or 'none'})"
            )
        if self.engine == "native" and not self.entrypoint:
            raise ValueError("a native connector needs entrypoint: module:Class")
        if self.engine != "native" and not self.executable and not self.docker_image:
            raise ValueError("executable is required (or a docker_image with an entrypoint)")
        return self

    @property
    def label(self) -> str:
        """``name (variant)``, for messages."""
        return f"{self.name} ({self.variant})"

    def has(self, capability: Capability) -> bool:
        return capability in self.capabilities
