"""``SourceConfig``: what a native extractor is handed (the connector guide's API)."""

from __future__ import annotations

import os
import typing as t
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SourceConfig:
    """The source side of a job as a native extractor sees it.

    ``connection`` holds the job's ``source.config``; ``object`` is the object the job selected
    (the one stream ``extract()`` must read; None outside a sync, e.g. in ``discover()``);
    ``incremental`` is true when the run started from a saved state. In a test:
    ``SourceConfig(connection={"endpoint": ...}, tenant_id="acme", object="items")``.
    """

    connection: dict[str, t.Any] = field(default_factory=dict)
    tenant_id: str = "default"
    incremental: bool = False
    object: str | None = None

    @classmethod
    def for_run(
        cls, connection: dict[str, t.Any], *, incremental: bool, object: str | None = None
    ) -> SourceConfig:
        """The config the orchestrator gave, with the tenant from ``DATIVO_TENANT_ID``."""
        tenant = os.environ.get("DATIVO_TENANT_ID", "default")
        return cls(connection, tenant, incremental, object)
