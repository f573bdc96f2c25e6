"""Contract figures of a run, as the run summary and the run's warnings give them."""

from __future__ import annotations

from typing import Any

from dativo_ingest.contracts.quarantine import Quarantine
from dativo_ingest.logs import get_logger

log = get_logger(__name__)


def log_drift(contracts: dict[str, dict[str, Any]], quarantine: Quarantine) -> None:
    """A warning per stream whose records broke its contract (or that no contract covers),
    and where the quarantined records are."""
    for stream, figures in sorted(contracts.items()):
        drift = figures.get("drift") or {}
        if drift:
            listed = ", ".join(f"{rule} x{n:,}" for rule, n in sorted(drift.items()))
            log.warning(
                "%s drifts from %s: %s", stream, figures["contract"] or "its contracts", listed
            )
    if quarantine.files:
        log.warning("records set aside by contracts are in %s", quarantine.folder)


def contract_summary(contracts: dict[str, dict[str, Any]]) -> str:
    """``; contracts: orders 98 passed, 2 discarded, 0 changed (drift: ...)``, or ``""``."""
    if not contracts:
        return ""
    parts = []
    for stream, figures in sorted(contracts.items()):
        if figures.get("contract") is None:
            counted = f"new stream, {figures.get('discarded', 0):,} discarded"
        else:
            counted = ", ".join(
                f"{figures.get(k, 0):,} {k}" for k in ("passed", "discarded", "changed")
            )
        drift = figures.get("drift") or {}
        listed = ", ".join(f"{rule} x{n:,}" for rule, n in sorted(drift.items()))
        parts.append(f"{stream} {counted}" + (f" (drift: {listed})" if listed else ""))
    return "; contracts: " + "; ".join(parts)
