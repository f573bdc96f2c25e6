"""Containers left by a dativo that died: labelled with their owner, swept at each start."""

from __future__ import annotations

import socket
from collections.abc import Mapping

import docker

from dativo_ingest.logs import get_logger
from dativo_ingest.processes import current_process_identity, process_start_time

log = get_logger(__name__)
MANAGED_LABEL = "dativo.managed"


def owner_labels() -> dict[str, str]:
    host, pid, started = current_process_identity()
    return {
        MANAGED_LABEL: "true",
        "dativo.host": host,
        "dativo.pid": str(pid),
        "dativo.pid_started": str(started),
    }


def _owner_alive(labels: Mapping[str, str]) -> bool:
    """Whether the dativo process that created the container still runs (pid and start time)."""
    try:
        pid, started = int(labels.get("dativo.pid", "")), float(labels["dativo.pid_started"])
    except (KeyError, ValueError):
        return False
    return process_start_time(pid) == started


def remove_orphans(api: docker.APIClient) -> list[str]:
    """Remove containers of this host whose dativo process is gone; return their names."""
    found = api.containers(
        all=True,
        filters={"label": [f"{MANAGED_LABEL}=true", f"dativo.host={socket.gethostname()}"]},
    )
    removed = []
    for container in found:
        if not _owner_alive(container.get("Labels") or {}):
            try:
                api.remove_container(container["Id"], force=True)
            except docker.errors.APIError as exc:
                # 404: gone already; 409: another dativo is removing it right now
                if exc.status_code not in (404, 409):
                    raise
            removed.append(",".join(container.get("Names") or [container["Id"][:12]]))
    if removed:
        log.info("removed %d container(s) left by a dativo that died: %s", len(removed), removed)
    return removed
