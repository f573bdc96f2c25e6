"""Reads the destination's stdout and persists every state it confirms, as it arrives."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import IO, Any

import orjson

from dativo_ingest.exceptions import StateStoreError
from dativo_ingest.logs import get_logger
from dativo_ingest.pipeline.lines import bounded_lines
from dativo_ingest.protocol.destination import HandledMessageError
from dativo_ingest.protocol.singer import NotAStateError, parse_target_state
from dativo_ingest.state import StateStore, is_empty_state

MAX_STATE_LINE = 64 << 20
log = get_logger(__name__)


class ConfirmedStates:
    """Consumer of a destination's stdout: each non-empty state is stored at once."""

    def __init__(
        self,
        store: StateStore,
        state_id: str,
        run_id: str,
        connector: str,
        on_first_save: Callable[[], None] = lambda: None,
        parse: Callable[[bytes], Any] = parse_target_state,
    ) -> None:
        self.store = store
        self.parse = parse
        self.on_first_save = on_first_save
        self.state_id = state_id
        self.run_id = run_id
        self.connector = connector
        self.saved = 0
        self.last_saved_at: float | None = None  # time.monotonic() of the latest save
        self.error: StateStoreError | None = None

    def consume(self, stream: IO[bytes]) -> None:
        """Read ``stream`` to EOF (run in its own thread)."""
        for number, (line, dropped) in enumerate(bounded_lines(stream, MAX_STATE_LINE), 1):
            if not line.strip():
                continue
            if dropped:
                log.warning(
                    "[%s] stdout line %d is over %d bytes; ignored",
                    self.connector,
                    number,
                    MAX_STATE_LINE,
                )
                continue
            self._accept(number, line)

    def _accept(self, number: int, line: bytes) -> None:
        try:
            value = self.parse(line)
        except orjson.JSONDecodeError:
            log.warning(
                "[%s] stdout line %d is not JSON; ignored: %.200s",
                self.connector,
                number,
                line.decode(errors="replace"),
            )
            return
        except HandledMessageError:
            return
        except NotAStateError as exc:
            log.warning("[%s] stdout line %d is %s; ignored", self.connector, number, exc)
            return
        if is_empty_state(value):
            log.info(
                "[%s] empty state on stdout line %d; the stored state is kept",
                self.connector,
                number,
            )
            return
        if self.error is not None:
            return
        try:
            self.store.set_state(self.state_id, value, self.run_id)
        except StateStoreError as exc:
            self.error = exc
            log.error("could not save the state confirmed by %s: %s", self.connector, exc)
            return
        self.saved += 1
        self.last_saved_at = time.monotonic()
        if self.saved == 1:
            self.on_first_save()
