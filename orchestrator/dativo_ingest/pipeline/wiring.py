"""How the two sides of a run are connected, by protocol: command lines, the relay (plain or
translating), and how the destination's stdout is read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from dativo_ingest.catalog import Catalog, airbyte_configured_catalog, prepare_catalog
from dativo_ingest.config import Job
from dativo_ingest.contracts.quarantine import Quarantine
from dativo_ingest.exceptions import ConfigurationError
from dativo_ingest.pipeline.relay import BaseRelay, relay_for
from dativo_ingest.pipeline.workdir import write_private
from dativo_ingest.protocol.adapters import adapter_for
from dativo_ingest.protocol.chain import Chain
from dativo_ingest.protocol.counter import StreamCounter
from dativo_ingest.protocol.pairs import Passage, stream_handler
from dativo_ingest.protocol.translate import AirbyteEvents, Translator
from dativo_ingest.runtime import Launch
from dativo_ingest.runtime.program import Program
from dativo_ingest.state import StoredState

if TYPE_CHECKING:
    from dativo_ingest.contracts.enforce import ContractEnforcer
    from dativo_ingest.protocol.stream_maps import StreamMapper


@dataclass
class Wiring:
    """Everything protocol-specific about one run."""

    tap_args: list[str | Path]
    target_args: list[str | Path]
    transform_args: list[list[str | Path]]  # each mapper's, in order
    counter: StreamCounter
    make_relay: Callable[[int, int], BaseRelay]
    parse_target_line: Callable[[bytes], Any]
    events: AirbyteEvents | None = None
    enforcer: ContractEnforcer | None = None


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
    quarantine: Quarantine,
    mappers: Sequence[Program] = (),
) -> Wiring:
    """Command lines and relay for ``tap`` -> ``mappers`` -> ``target``, writing their files
    to ``workdir``; records a contract discards go to ``quarantine``."""
    source, destination = adapter_for(tap.protocol), adapter_for(target.protocol)
    mapper = _stream_mapper(job, tap, target)
    enforcer = _enforcer(job, tap, target, quarantine)
    transform_args = _transform_args(job, mappers, target, workdir)
    config_file = write_private(workdir / "source-config.json", orjson.dumps(source_config))
    target_config = write_private(workdir / "target-config.json", orjson.dumps(job.target.config))
    catalog = prepare_catalog(job, tap, config_file, launch=tap_launch, refresh=refresh_catalog)
    stored_value = None if stored is None else stored.value
    events = AirbyteEvents(tap.name)

    if source.selects_in_configured_catalog:
        if catalog is None:
            raise ConfigurationError(f"{tap.name}: an Airbyte source needs a catalog")
        catalog = airbyte_configured_catalog(job, catalog, full_refresh)
    catalog_name = (
        "configured-catalog.json" if source.selects_in_configured_catalog else "catalog.json"
    )
    catalog_file = None if catalog is None else _write(workdir / catalog_name, catalog)
    state_file = None
    if stored_value is not None:
        state_file = _write(workdir / "state.json", source.state_input(stored_value))
    tap_args = source.read_args(config_file, catalog_file, state_file, tap.capabilities)

    destination_catalog_file = None
    if destination.needs_destination_catalog:
        destination_catalog = source.destination_catalog(
            _destination_streams(job, tap, catalog),
            full_refresh=full_refresh,
            destination_sync_mode=job.definition.target.destination_sync_mode,
        )
        destination_catalog_file = _write(workdir / "destination-catalog.json", destination_catalog)
    target_args = destination.write_args(target_config, destination_catalog_file)
    parse = destination.state_parser(
        source.source_state(stored_value), AirbyteEvents(target.name, side="target")
    )

    handler = stream_handler(tap.protocol, target.protocol, Passage(catalog, stored_value, events))
    translator = handler if isinstance(handler, Translator) else None
    stages = [  # each stage reads what the one before wrote; Singer between them
        translator if tap.protocol == "airbyte" else None,
        enforcer,  # what the source delivered, before any map changes it
        mapper,
        translator if tap.protocol == "singer" else None,
    ]
    chain = [stage for stage in stages if stage is not None]
    if chain:
        handler = chain[0] if len(chain) == 1 else Chain(chain)

    def make_relay(source_fd: int, destination_fd: int) -> BaseRelay:
        return relay_for(source_fd, destination_fd, handler)

    return Wiring(
        tap_args,
        target_args,
        transform_args,
        handler,
        make_relay,
        parse,
        events if source.reports_events else None,
        enforcer,
    )


def _stream_mapper(job: Job, tap: Program, target: Program) -> StreamMapper | None:
    """The job's inline stream maps, None without any; only between Singer programs (the
    expression compiler is imported only for jobs with maps)."""
    if not job.definition.stream_maps:  # {} maps nothing: the byte relay stays
        return None
    if (tap.protocol, target.protocol) != ("singer", "singer"):
        raise ConfigurationError(
            f"{job.file}: stream_maps: inline stream maps run between a Singer tap and a "
            f"Singer target, not {tap.protocol} -> {target.protocol}"
        )
    from dativo_ingest.protocol.stream_maps import StreamMapper, compile_stream_maps

    return StreamMapper(compile_stream_maps(job.definition.stream_maps))


def _enforcer(
    job: Job, tap: Program, target: Program, quarantine: Quarantine
) -> ContractEnforcer | None:
    """The job's contracts enforced, None without any (the byte relay stays)."""
    if not job.contracts:
        return None
    if (tap.protocol, target.protocol) == ("airbyte", "airbyte"):
        raise ConfigurationError(
            f"{job.file}: source.assets: contracts are enforced on the Singer stream, and "
            f"{tap.name} -> {target.name} is Airbyte -> Airbyte: use a Singer target, or run "
            "without source.assets"
        )
    # imported here: only runs with contracts pay for the validator (msgspec)
    from dativo_ingest.contracts.enforce import ContractEnforcer

    return ContractEnforcer(job.contracts, quarantine)


def _transform_args(
    job: Job, mappers: Sequence[Program], target: Program, workdir: Path
) -> list[list[str | Path]]:
    """Each mapper's command line (``--config FILE``, as a Singer target's); mappers read and
    write Singer, so the stream reaching them (and the target after them) must be Singer."""
    problems = [
        f"transforms[{i}]: {mapper.name} speaks {mapper.protocol}; a mapper must speak singer"
        for i, mapper in enumerate(mappers)
        if mapper.protocol != "singer"
    ]
    if mappers and target.protocol != "singer":
        problems.append(
            f"transforms: mappers write Singer, and {target.name} reads {target.protocol}"
        )
    if problems:
        raise ConfigurationError(f"{job.file}: " + "; ".join(problems))
    singer = adapter_for("singer")
    return [
        singer.write_args(_write(workdir / f"transform-{i}-config.json", c.config), None)
        for i, c in enumerate(job.transforms)
    ]


def _write(path: Path, document: Any) -> Path:
    return write_private(path, orjson.dumps(document))


def _destination_streams(job: Job, tap: Program, catalog: Catalog | None) -> Catalog:
    if catalog is None:
        raise ConfigurationError(
            f"{job.file}: an Airbyte destination needs the streams up front, and {tap.name} "
            "gave no catalog: give source.catalog, or use a tap that can discover"
        )
    return catalog
