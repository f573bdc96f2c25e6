"""Drift: how what a source offers differs from its contracts, as typed changes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Literal

from dativo_ingest.contracts.shape import Column, StreamShape

Change = Literal[
    "stream added",
    "stream removed",
    "column added",
    "column removed",
    "type changed",
    "required changed",
]


@dataclass(frozen=True)
class Drift:
    """One change. ``contract`` and ``source`` say what each side has (a type such as
    ``integer (bigint)``, ``required``/``optional``), None where a side has nothing."""

    stream: str
    change: Change
    column: str | None = None
    contract: str | None = None
    source: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)


def diff_streams(
    contracts: Mapping[str, StreamShape], offered: Mapping[str, StreamShape]
) -> list[Drift]:
    """Every change from ``contracts`` to ``offered`` (both keyed by stream name): streams
    first, then each common stream's columns (``diff_stream``)."""
    drifts = [Drift(name, "stream added") for name in offered if name not in contracts]
    drifts += [Drift(name, "stream removed") for name in contracts if name not in offered]
    for name, contract in contracts.items():
        if name in offered:
            drifts += diff_stream(contract, offered[name])
    return drifts


def diff_stream(contract: StreamShape, offered: StreamShape) -> list[Drift]:
    """Columns added, removed, retyped, or whose ``required`` differs. A type changes when
    the logical types differ, or both sides name a physical type and those differ."""
    name, was, now = contract.name, contract.columns, offered.columns
    drifts = [Drift(name, "column added", c, None, now[c].describe()) for c in now if c not in was]
    drifts += [
        Drift(name, "column removed", c, was[c].describe(), None) for c in was if c not in now
    ]
    for column in (c for c in was if c in now):
        before, after = was[column], now[column]
        if _retyped(before, after):
            drifts.append(Drift(name, "type changed", column, before.describe(), after.describe()))
        if before.required != after.required:
            drifts.append(
                Drift(
                    name, "required changed", column, _need(before.required), _need(after.required)
                )
            )
    return drifts


def _retyped(before: Column, after: Column) -> bool:
    if before.logical_type != after.logical_type:
        return True
    if before.physical_type is None or after.physical_type is None:
        return False
    return _spelling(before.physical_type) != _spelling(after.physical_type)


def _spelling(physical: str) -> str:
    return " ".join(physical.lower().split())


def _need(required: bool) -> str:
    return "required" if required else "optional"
