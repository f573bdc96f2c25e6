"""What the runtime needs to start a connector: its command line and what it supports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dativo_ingest.protocol.names import DEFAULT_PROTOCOL, Capability, ProtocolName
from dativo_ingest.runtime.options import RuntimeOptions

if TYPE_CHECKING:
    import docker


@dataclass(frozen=True)
class Program:
    """How to start one connector. ``identity`` changes whenever the installed program does.

    ``argv`` starts it on this machine; in a container, ``image`` runs ``container_argv``.
    ``runtime`` holds the registry entry's runtime defaults; ``build_image`` (given a Docker
    API client) builds a first-party connector's image when it is missing or out of date and
    returns its tag.
    """

    name: str
    argv: tuple[str, ...]
    capabilities: frozenset[Capability]
    identity: str
    protocol: ProtocolName = DEFAULT_PROTOCOL
    image: str | None = None
    container_argv: tuple[str, ...] = ()
    runtime: RuntimeOptions | None = None
    build_image: Callable[[docker.APIClient], str] | None = None

    def supports(self, capability: Capability) -> bool:
        return capability in self.capabilities
