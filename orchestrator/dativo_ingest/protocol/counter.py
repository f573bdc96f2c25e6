"""What the relay keeps about the stream it moves, whatever the protocols on either side."""

from __future__ import annotations

from typing import Any, Protocol


class StreamCounter(Protocol):
    """Records relayed, the source's last state (in its stored form), and records per stream
    when the relay splits streams (empty when it only counts)."""

    records: int
    last_state: Any
    track_states: bool  # False once the destination confirms states itself

    @property
    def per_stream(self) -> dict[str, int]: ...
