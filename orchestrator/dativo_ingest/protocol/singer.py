"""Singer messages, read as cheaply as the relay can afford.

The relay never decodes a RECORD. It counts them by their ``"type":"RECORD"`` marker and
decodes only the lines that mention ``"STATE"``, so the tap's last state is known.
"""

from __future__ import annotations

from typing import Any

import orjson

_RECORD_MARKERS = (b'"type":"RECORD"', b'"type": "RECORD"')
_STATE_MARKER = b'"STATE"'
_METRIC_PREFIX = "METRIC: "
_NO_STATE = object()


class NotAStateError(ValueError):
    """A target output line that is valid JSON but not a state."""


class SingerScanner:
    """Counts RECORD messages and remembers the last STATE of a Singer byte stream.

    ``scan`` takes a buffer region made of whole lines; ``scan_line_head`` takes the first
    bytes of a line too long to hold. Set ``track_states`` to False once the last STATE is no
    longer needed (the destination confirms states itself): it saves a pass over every byte.
    """

    def __init__(self) -> None:
        self.records = 0
        self.states = 0
        self.last_state: Any = None
        self.uninspected_state_lines = 0
        self.track_states = True

    @property
    def per_stream(self) -> dict[str, int]:
        """Empty: the scanner counts records without telling streams apart."""
        return {}

    def scan(self, buf: bytes | bytearray, start: int, end: int) -> None:
        """Classify the whole lines in ``buf[start:end]``."""
        for marker in _RECORD_MARKERS:
            found = buf.count(marker, start, end)
            if found:
                self.records += found
                break
        if self.track_states:
            self._find_last_state(buf, start, end)

    def scan_line_head(self, head: bytes) -> None:
        """Classify a line from its first bytes only (the line is too long to hold)."""
        if any(marker in head for marker in _RECORD_MARKERS):
            self.records += 1
        elif _STATE_MARKER in head:
            self.uninspected_state_lines += 1

    def _find_last_state(self, buf: bytes | bytearray, start: int, end: int) -> None:
        stop = end
        while (pos := buf.rfind(_STATE_MARKER, start, stop)) >= 0:
            stop = pos
            if buf[pos - 7 : pos] != b'"type":' and buf[pos - 8 : pos] != b'"type": ':
                continue
            line_start = buf.rfind(b"\n", start, pos) + 1 or start
            line_end = buf.find(b"\n", pos, end)
            line = bytes(buf[line_start : line_end if line_end >= 0 else end])
            value = _state_message_value(line)
            if value is not _NO_STATE:
                self.states += 1
                self.last_state = value
                return


def _state_message_value(line: bytes) -> Any:
    try:
        message = orjson.loads(line)
    except orjson.JSONDecodeError:
        return _NO_STATE
    if isinstance(message, dict) and message.get("type") == "STATE":
        return message.get("value")
    return _NO_STATE


def parse_target_state(line: bytes) -> Any:
    """The state in one line of a target's stdout: ``{"type": "STATE", "value": v}`` or a bare
    state object. Raises ``orjson.JSONDecodeError`` for non-JSON, ``NotAStateError`` otherwise."""
    message = orjson.loads(line)
    if message is None:
        return None
    if not isinstance(message, dict):
        raise NotAStateError(f"a JSON {type(message).__name__}, not a state object")
    kind = message.get("type")
    if kind == "STATE":
        return message.get("value")
    if isinstance(kind, str) and kind.isupper():
        raise NotAStateError(f"a Singer {kind} message, not a STATE")
    return message


def parse_metric(text: str) -> tuple[str, int] | None:
    """``(stream, records)`` from a singer-sdk ``METRIC: {...}`` record_count log line."""
    at = text.find(_METRIC_PREFIX)
    if at < 0:
        return None
    try:
        metric = orjson.loads(text[at + len(_METRIC_PREFIX) :])
    except orjson.JSONDecodeError:
        return None
    if not isinstance(metric, dict) or metric.get("metric") != "record_count":
        return None
    tags = metric.get("tags") or {}
    value = metric.get("value")
    stream = tags.get("stream") if isinstance(tags, dict) else None
    if not isinstance(stream, str) or not isinstance(value, int):
        return None
    return stream, value
