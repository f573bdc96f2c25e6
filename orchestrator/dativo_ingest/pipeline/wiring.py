"""How the two sides of a run are connected, by protocol: command lines, the relay (plain or
translating), and how the destination's stdout is read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from dativo_ingest.catalog import airbyte_configured_catalog, prepare_catalog
from dativo_ingest.catalog.discovery import Catalog
from dativo_ingest.config import Job
from dativo_ingest.exceptions import ConfigurationError
from dativo_ingest.pipeline.relay import Relay, TranslatingRelay
from dativo_ingest.pipeline.workdir import write_private
from dativo_ingest.protocol.airbyte import AirbyteState, catalog_from_singer
from dativo_ingest.protocol.destination import AirbyteDestinationStates
from dativo_ingest.protocol.singer import SingerScanner, parse_target_state
from dativo_ingest.protocol.translate import (
    AirbyteEvents,
    AirbyteToAirbyte,
    AirbyteToSinger,
    SingerToAirbyte,
    Translator,
)
from dativo_ingest.registry import Capability
from dativo_ingest.runtime import Launch
from dativo_ingest.runtime.program import Program
from dativo_ingest.state import StoredState


@dataclass
class Wiring:
    """Everything protocol-specific about one run."""

    tap_args: list[str | Path]
    target_args: list[str | Path]
    counter: SingerScanner | Translator
    make_relay: Callable[..., Relay]
    parse_target_line: Callable[[bytes], Any]
    events: AirbyteEvents | None = None


def wire(
    job: Job,
    tap: Program,
    target: Program,
    stored: StoredState | None,
    workdir: Path,
    source_config: dict[str, Any],
    *,
    tap_launch: Launch,
    full_refresh: bool,
    refresh_catalog: bool,
) -> Wiring:
    """Command lines and relay for ``tap`` -> ``target``, writing their files to ``workdir``."""
    config_file = write_private(workdir / "source-config.json", orjson.dumps(source_config))
    target_config = write_private(workdir / "target-config.json", orjson.dumps(job.target.config))
    catalog = prepare_catalog(job, tap, config_file, launch=tap_launch, refresh=refresh_catalog)
    stored_value = None if stored is None else stored.value
    events = AirbyteEvents(tap.name)
    target_args: list[str | Path] = ["--config", target_config]

    if tap.protocol == "airbyte":
        if catalog is None:
            raise ConfigurationError(f"{tap.name}: an Airbyte source needs a catalog")
        configured = airbyte_configured_catalog(job, catalog, full_refresh)
        configured_file = _write(workdir / "configured-catalog.json", configured)
        tap_args: list[str | Path] = ["read", "--config", config_file, "--catalog", configured_file]
        if stored_value is not None:
            messages = AirbyteState(stored_value).messages()
            tap_args += ["--state", _write(workdir / "state.json", messages)]
    else:
        tap_args = ["--config", config_file]
        if catalog is not None:
            flag = "--properties" if tap.supports(Capability.PROPERTIES) else "--catalog"
            tap_args += [flag, _write(workdir / "catalog.json", catalog)]
        if stored_value is not None:
            tap_args += ["--state", _write(workdir / "state.json", stored_value)]

    if target.protocol == "airbyte":
        destination_catalog = (
            configured
            if tap.protocol == "airbyte"
            else _singer_to_destination(job, tap, catalog, full_refresh)
        )
        target_args = [
            "write",
            *target_args,
            "--catalog",
            _write(workdir / "destination-catalog.json", destination_catalog),
        ]
        confirmed_state = AirbyteState(stored_value) if tap.protocol == "airbyte" else None
        parse = AirbyteDestinationStates(
            confirmed_state, AirbyteEvents(target.name, side="target")
        ).parse
    else:
        parse = parse_target_state

    pair = (tap.protocol, target.protocol)
    counter: SingerScanner | Translator
    if pair == ("singer", "singer"):
        counter, relay_class = SingerScanner(), Relay
    else:
        relay_class = TranslatingRelay
        if pair == ("airbyte", "singer"):
            counter = AirbyteToSinger(configured, AirbyteState(stored_value), events)
        elif pair == ("singer", "airbyte"):
            counter = SingerToAirbyte()
        else:
            counter = AirbyteToAirbyte(AirbyteState(stored_value), events)

    def make_relay(source_fd: int, destination_fd: int) -> Relay:
        return relay_class(source_fd, destination_fd, counter)  # type: ignore[arg-type]

    uses_events = tap.protocol == "airbyte"
    return Wiring(
        tap_args, target_args, counter, make_relay, parse, events if uses_events else None
    )


def _write(path: Path, document: Any) -> Path:
    return write_private(path, orjson.dumps(document))


def _singer_to_destination(
    job: Job, tap: Program, catalog: Catalog | None, full_refresh: bool
) -> Catalog:
    if catalog is None:
        raise ConfigurationError(
            f"{job.file}: an Airbyte destination needs the streams up front, and {tap.name} "
            "gave no catalog: give source.catalog, or use a tap that can discover"
        )
    return catalog_from_singer(
        catalog,
        full_refresh=full_refresh,
        destination_sync_mode=job.spec.target.destination_sync_mode,
    )
