"""What the runtime needs to start a connector: its command line and what it supports."""

from __future__ import annotations

from dataclasses import dataclass

from dativo_ingest.registry import Capability


@dataclass(frozen=True)
class Program:
    """How to start one connector. ``identity`` changes whenever the installed program does."""

    name: str
    argv: tuple[str, ...]
    capabilities: frozenset[Capability]
    identity: str

    def supports(self, capability: Capability) -> bool:
        return capability in self.capabilities
