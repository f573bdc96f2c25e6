"""Translators one after another in the relay: e.g. Airbyte -> Singer translation, then
contract enforcement, then stream maps, each taking the lines the one before wrote."""

from __future__ import annotations

from typing import Any

from dativo_ingest.protocol.translate import Translator


class Chain(Translator):
    """``stages`` in order. The records counted are those the last stage sent on; the state
    kept is the first stage's (the source's, in its stored form)."""

    def __init__(self, stages: list[Translator]) -> None:  # no Translator.__init__: the
        self.stages = stages  # figures are the stages'

    @property
    def track_states(self) -> bool:
        return self.stages[0].track_states

    @track_states.setter
    def track_states(self, value: bool) -> None:
        for stage in self.stages:
            stage.track_states = value

    @property
    def records(self) -> int:  # type: ignore[override]
        return self.stages[-1].records

    @property
    def last_state(self) -> Any:
        return self.stages[0].last_state

    @property
    def per_stream(self) -> dict[str, int]:
        return next((s.per_stream for s in self.stages if s.per_stream), {})

    def preamble(self) -> bytes:
        data = self.stages[0].preamble()
        for stage in self.stages[1:]:
            data = stage.preamble() + (stage.translate(_lines(data)) if data else b"")
        return data

    def translate(self, lines: list[bytes]) -> bytes:
        data = self.stages[0].translate(lines)
        for stage in self.stages[1:]:
            data = stage.translate(_lines(data))
        return data


def _lines(data: bytes) -> list[bytes]:
    """Whole lines of a stage's output (which ends with a newline, or is empty)."""
    lines = data.split(b"\n")
    lines.pop()
    return lines
