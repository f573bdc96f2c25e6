"""Reading what a destination prints on stdout: the states it confirms."""

from __future__ import annotations

from typing import Any

import orjson

from dativo_ingest.protocol.airbyte import AirbyteState
from dativo_ingest.protocol.singer import NotAStateError
from dativo_ingest.protocol.translate import AirbyteEvents


class HandledMessageError(NotAStateError):
    """A valid message that is not a state and was handled (logged, recorded) already."""


class AirbyteDestinationStates:
    """Parses an Airbyte destination's stdout. A confirmed STATE becomes the value to store:
    for an Airbyte source, the cumulative per-stream state; for a Singer tap, the Singer state
    that travelled as LEGACY data."""

    def __init__(self, source_state: AirbyteState | None, events: AirbyteEvents) -> None:
        self.source_state = source_state
        self.events = events

    def parse(self, line: bytes) -> Any:
        message = orjson.loads(line)
        if not isinstance(message, dict):
            raise NotAStateError(f"a JSON {type(message).__name__}, not an Airbyte message")
        if message.get("type") != "STATE":
            self.events.observe(message)
            raise HandledMessageError(str(message.get("type")))
        state = message.get("state") or {}
        if self.source_state is None:
            return state.get("data")
        self.source_state.merge(state)
        return self.source_state.stored()
