"""What the relay does for each (source protocol, destination protocol) pair: count a Singer
stream as it passes, or translate message by message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dativo_ingest.protocol.airbyte import AirbyteState
from dativo_ingest.protocol.names import ProtocolName
from dativo_ingest.protocol.singer import SingerScanner
from dativo_ingest.protocol.translate import (
    AirbyteEvents,
    AirbyteToAirbyte,
    AirbyteToSinger,
    SingerToAirbyte,
    Translator,
)


@dataclass(frozen=True)
class Passage:
    """What a translator starts from: the source's catalog, its stored state, its events."""

    catalog: dict[str, Any] | None
    stored: Any
    events: AirbyteEvents


def _airbyte_to_singer(passage: Passage) -> AirbyteToSinger:
    if passage.catalog is None:
        raise ValueError("an Airbyte source is translated with its configured catalog")
    return AirbyteToSinger(passage.catalog, AirbyteState(passage.stored), passage.events)


RELAYED: dict[tuple[ProtocolName, ProtocolName], Callable[[Passage], SingerScanner | Translator]]
RELAYED = {
    ("singer", "singer"): lambda passage: SingerScanner(),
    ("airbyte", "singer"): _airbyte_to_singer,
    ("singer", "airbyte"): lambda passage: SingerToAirbyte(),
    ("airbyte", "airbyte"): lambda p: AirbyteToAirbyte(AirbyteState(p.stored), p.events),
}


def stream_handler(
    source: ProtocolName, destination: ProtocolName, passage: Passage
) -> SingerScanner | Translator:
    """The scanner (same protocol, Singer) or translator between ``source`` and ``destination``."""
    return RELAYED[source, destination](passage)
