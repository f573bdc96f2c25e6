"""One adapter per protocol: a connector's command lines, and how its output reads.

Everything that differs between a Singer and an Airbyte connector, short of translating
messages (``protocol.pairs``), is here; the rest of dativo asks ``adapter_for(protocol)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, ClassVar

import orjson

from dativo_ingest.protocol.airbyte import AirbyteState, catalog_from_singer
from dativo_ingest.protocol.destination import AirbyteDestinationStates
from dativo_ingest.protocol.names import Capability, ProtocolName
from dativo_ingest.protocol.singer import parse_target_state
from dativo_ingest.protocol.translate import AirbyteEvents

Args = list[str | Path]


class ProtocolAdapter(ABC):
    """The protocol-specific part of starting a connector and reading what it prints."""

    name: ClassVar[ProtocolName]
    always_discovers: ClassVar[bool]  # a source needs a discovered catalog on every run
    selects_in_configured_catalog: ClassVar[bool]  # the job's selection shapes a configured
    # catalog built at run time, not the discovered catalog
    reports_events: ClassVar[bool]  # the source sends logs, errors and counts in its stream
    needs_destination_catalog: ClassVar[bool]  # a destination writes the streams it is told
    container_folder: ClassVar[str]  # where a container finds the run's files
    mounts_files_singly: ClassVar[bool]  # the image's own code lives beside them
    entrypoint_variable: ClassVar[str | None]  # image variable naming the entrypoint

    @abstractmethod
    def spec_args(self) -> Args | None:
        """The command line printing the connector's settings, or None when it has none."""

    @abstractmethod
    def discover_args(self, config: Path) -> Args: ...

    @abstractmethod
    def parse_catalog(self, output: bytes) -> Any:
        """The catalog in a discovery's stdout; raises ``orjson.JSONDecodeError``."""

    @abstractmethod
    def has_check(self, capabilities: Collection[Capability]) -> bool: ...

    @abstractmethod
    def check_args(self, config: Path) -> Args: ...

    @abstractmethod
    def check_outcome(self, returncode: int, output: bytes) -> tuple[bool, str]:
        """(passed, detail): on success what passed, on failure what the connector said."""

    @abstractmethod
    def read_args(
        self,
        config: Path,
        catalog: Path | None,
        state: Path | None,
        capabilities: Collection[Capability],
    ) -> Args: ...

    @abstractmethod
    def state_input(self, stored: Any) -> Any:
        """The document a source reads as ``--state``, from the stored state."""

    @abstractmethod
    def source_state(self, stored: Any) -> AirbyteState | None:
        """The cumulative state a destination's confirmations merge into (None: they carry
        the whole state)."""

    @abstractmethod
    def destination_catalog(
        self, catalog: dict[str, Any], *, full_refresh: bool, destination_sync_mode: str
    ) -> dict[str, Any]:
        """This source's streams as the ConfiguredAirbyteCatalog an Airbyte destination reads."""

    @abstractmethod
    def write_args(self, config: Path, catalog: Path | None) -> Args: ...

    @abstractmethod
    def state_parser(
        self, source_state: AirbyteState | None, events: AirbyteEvents
    ) -> Callable[[bytes], Any]:
        """Reads one line of a destination's stdout into the state it confirms."""


class SingerAdapter(ProtocolAdapter):
    name = "singer"
    always_discovers = False
    selects_in_configured_catalog = False
    reports_events = False
    needs_destination_catalog = False
    container_folder = "/dativo"
    mounts_files_singly = False
    entrypoint_variable = None

    def spec_args(self) -> Args | None:
        return None

    def discover_args(self, config: Path) -> Args:
        return ["--config", config, "--discover"]

    def parse_catalog(self, output: bytes) -> Any:
        return orjson.loads(output)

    def has_check(self, capabilities: Collection[Capability]) -> bool:
        return Capability.TEST in capabilities

    def check_args(self, config: Path) -> Args:
        return ["--config", config, "--test"]

    def check_outcome(self, returncode: int, output: bytes) -> tuple[bool, str]:
        return (True, "connection test passed") if returncode == 0 else (False, "")

    def read_args(
        self,
        config: Path,
        catalog: Path | None,
        state: Path | None,
        capabilities: Collection[Capability],
    ) -> Args:
        args: Args = ["--config", config]
        if catalog is not None:
            flag = "--properties" if Capability.PROPERTIES in capabilities else "--catalog"
            args += [flag, catalog]
        if state is not None:
            args += ["--state", state]
        return args

    def state_input(self, stored: Any) -> Any:
        return stored

    def source_state(self, stored: Any) -> AirbyteState | None:
        return None

    def destination_catalog(
        self, catalog: dict[str, Any], *, full_refresh: bool, destination_sync_mode: str
    ) -> dict[str, Any]:
        return catalog_from_singer(
            catalog, full_refresh=full_refresh, destination_sync_mode=destination_sync_mode
        )

    def write_args(self, config: Path, catalog: Path | None) -> Args:
        return ["--config", config]

    def state_parser(
        self, source_state: AirbyteState | None, events: AirbyteEvents
    ) -> Callable[[bytes], Any]:
        return parse_target_state


class AirbyteAdapter(ProtocolAdapter):
    name = "airbyte"
    always_discovers = True
    selects_in_configured_catalog = True
    reports_events = True
    needs_destination_catalog = True
    container_folder = "/airbyte"
    mounts_files_singly = True
    entrypoint_variable = "AIRBYTE_ENTRYPOINT"

    def spec_args(self) -> Args | None:
        return ["spec"]

    def discover_args(self, config: Path) -> Args:
        return ["discover", "--config", config]

    def parse_catalog(self, output: bytes) -> Any:
        for line in output.splitlines():
            if line.startswith(b"{") and b'"CATALOG"' in line:
                message = orjson.loads(line)
                if message.get("type") == "CATALOG":
                    return message.get("catalog")
        raise orjson.JSONDecodeError("no CATALOG message", "", 0)

    def has_check(self, capabilities: Collection[Capability]) -> bool:
        return True

    def check_args(self, config: Path) -> Args:
        return ["check", "--config", config]

    def check_outcome(self, returncode: int, output: bytes) -> tuple[bool, str]:
        status = _connection_status(output)
        if returncode == 0 and status.get("status") == "SUCCEEDED":
            return True, "connection check succeeded"
        return False, str(status.get("message") or "no CONNECTION_STATUS")

    def read_args(
        self,
        config: Path,
        catalog: Path | None,
        state: Path | None,
        capabilities: Collection[Capability],
    ) -> Args:
        if catalog is None:
            raise ValueError("an Airbyte source reads with a configured catalog")
        args: Args = ["read", "--config", config, "--catalog", catalog]
        return [*args, "--state", state] if state is not None else args

    def state_input(self, stored: Any) -> Any:
        return AirbyteState(stored).messages()

    def source_state(self, stored: Any) -> AirbyteState | None:
        return AirbyteState(stored)

    def destination_catalog(
        self, catalog: dict[str, Any], *, full_refresh: bool, destination_sync_mode: str
    ) -> dict[str, Any]:
        return catalog  # already the configured catalog the source reads

    def write_args(self, config: Path, catalog: Path | None) -> Args:
        if catalog is None:
            raise ValueError("an Airbyte destination writes with a configured catalog")
        return ["write", "--config", config, "--catalog", catalog]

    def state_parser(
        self, source_state: AirbyteState | None, events: AirbyteEvents
    ) -> Callable[[bytes], Any]:
        return AirbyteDestinationStates(source_state, events).parse


def _connection_status(output: bytes) -> dict[str, Any]:
    """The ``connectionStatus`` of an Airbyte ``check``, or the message of its TRACE error."""
    status: dict[str, Any] = {}
    for line in output.splitlines():
        if not line.startswith(b"{"):
            continue
        message = orjson.loads(line)
        if message.get("type") == "CONNECTION_STATUS":
            return message.get("connectionStatus") or {}
        if message.get("type") == "TRACE" and (message.get("trace") or {}).get("type") == "ERROR":
            error = message["trace"].get("error") or {}
            status = {"message": f"{error.get('message')} ({error.get('internal_message')})"}
    return status


ADAPTERS: dict[ProtocolName, ProtocolAdapter] = {
    adapter.name: adapter for adapter in (SingerAdapter(), AirbyteAdapter())
}


def adapter_for(protocol: ProtocolName) -> ProtocolAdapter:
    """The adapter of ``protocol``."""
    return ADAPTERS[protocol]
