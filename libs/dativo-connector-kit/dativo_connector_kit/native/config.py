"""``SourceConfig``: what a native extractor is handed (the connector guide's API)."""

from __future__ import annotations

import os
import typing as t
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SourceConfig:
    """The source side of a job as a native extractor sees it: its connector (``executable``),
    its settings (``config``, also as ``connection``), the tenant and whether a state exists."""

    executable: str
    config: dict[str, t.Any] = field(default_factory=dict)
    tenant_id: str = "default"
    incremental: bool = True

    @property
    def connection(self) -> dict[str, t.Any]:
        """The settings, under the name the guide's extractors read them by."""
        return self.config

    @classmethod
    def for_run(cls, connector: str, config: dict[str, t.Any], incremental: bool) -> SourceConfig:
        """The config the orchestrator gave, with the tenant from ``DATIVO_TENANT_ID``."""
        tenant = os.environ.get("DATIVO_TENANT_ID", "default")
        return cls(connector, config, tenant, incremental)
