"""Contract figures of a run, as the run summary prints them."""

from __future__ import annotations

from typing import Any


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
