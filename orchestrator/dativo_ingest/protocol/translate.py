"""Message-by-message translation in the relay: Airbyte source -> Singer target, Singer tap ->
Airbyte destination, and Airbyte -> Airbyte passthrough. orjson only, no per-message models.

A translator takes whole lines (without newlines) and returns the bytes to send on. It counts
records, keeps the source's last state in its stored form, and reports what it learns from
the source (errors, config updates, stream statuses, record counts) to ``AirbyteEvents``.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

from dativo_ingest.logs import LEVELS, connector_log
from dativo_ingest.protocol.airbyte import AirbyteState, singer_schema_messages

_AIRBYTE_RECORD = b'{"type":"RECORD"'


@dataclass
class AirbyteEvents:
    """What an Airbyte connector said besides records and states."""

    connector: str
    side: str = "source"
    errors: list[tuple[str, str]] = field(default_factory=list)  # (message, failure_type)
    config_updates: list[dict[str, Any]] = field(default_factory=list)
    stream_status: dict[str, str] = field(default_factory=dict)
    source_counts: Counter[str] = field(default_factory=Counter)

    def observe(self, message: dict[str, Any]) -> None:
        """Handle LOG, TRACE and CONTROL messages; ignore the rest."""
        kind = message.get("type")
        if kind == "LOG":
            entry = message.get("log") or {}
            level = LEVELS.get(str(entry.get("level")).upper(), logging.INFO)
            connector_log(self.side, self.connector, level, str(entry.get("message", "")))
        elif kind == "TRACE":
            self._trace(message.get("trace") or {})
        elif kind == "CONTROL":
            control = message.get("control") or {}
            config = (control.get("connectorConfig") or {}).get("config")
            if control.get("type") == "CONNECTOR_CONFIG" and isinstance(config, dict):
                self.config_updates.append(config)  # never logged: it holds credentials

    def _trace(self, trace: dict[str, Any]) -> None:
        kind = trace.get("type")
        if kind == "ERROR":
            error = trace.get("error") or {}
            message = str(error.get("message") or error.get("internal_message") or "error")
            self.errors.append((message, str(error.get("failure_type") or "system_error")))
            connector_log(
                self.side, self.connector, logging.ERROR, f"{message} ({self.errors[-1][1]})"
            )
        elif kind == "STREAM_STATUS":
            status = trace.get("stream_status") or {}
            name = (status.get("stream_descriptor") or {}).get("name")
            if name:
                self.stream_status[name] = str(status.get("status"))
        elif kind == "ESTIMATE":
            estimate = trace.get("estimate") or {}
            connector_log(
                self.side,
                self.connector,
                logging.DEBUG,
                f"estimate for {estimate.get('name')}: {estimate.get('row_estimate')} rows",
            )

    def count_source_stats(self, state: dict[str, Any]) -> None:
        stats = state.get("sourceStats") or {}
        stream = (state.get("stream") or {}).get("stream_descriptor", {}).get("name")
        if stream and isinstance(stats.get("recordCount"), int | float):
            self.source_counts[stream] += int(stats["recordCount"])


class Translator:
    """Base of the translators: counters and the source's last state (stored form)."""

    def __init__(self) -> None:
        self.records = 0
        self.counts: dict[bytes, int] = {}  # records per stream, keyed by the encoded name
        self.last_state: Any = None
        self.track_states = True

    @property
    def per_stream(self) -> dict[str, int]:
        return {name.decode(errors="replace"): n for name, n in self.counts.items()}

    def preamble(self) -> bytes:
        """Bytes to send before the first message."""
        return b""

    def translate(self, lines: list[bytes]) -> bytes:
        """The bytes to send on for these whole lines."""
        raise NotImplementedError


class AirbyteToSinger(Translator):
    """Airbyte source -> Singer target. Each Airbyte STATE is merged into the cumulative
    state, which goes on as one Singer STATE carrying all streams' states."""

    def __init__(self, configured: dict[str, Any], state: AirbyteState, events: AirbyteEvents):
        super().__init__()
        self.configured = configured
        self.state = state
        self.events = events

    def preamble(self) -> bytes:
        return b"".join(orjson.dumps(m) + b"\n" for m in singer_schema_messages(self.configured))

    def translate(self, lines: list[bytes]) -> bytes:
        out = []
        counts = self.counts
        for line in lines:
            if not line:
                continue
            fast = _split_canonical_record(line)
            if fast is not None:
                stream, data = fast
                counts[stream] = counts.get(stream, 0) + 1
                out.append(b'{"type":"RECORD","stream":"' + stream + b'","record":' + data + b"}")
                continue
            message = orjson.loads(line)
            kind = message.get("type")
            if kind == "RECORD":
                record = message["record"]
                name = str(record["stream"])
                key = name.encode()
                counts[key] = counts.get(key, 0) + 1
                out.append(
                    orjson.dumps({"type": "RECORD", "stream": name, "record": record.get("data")})
                )
            elif kind == "STATE":
                self.state.merge(message["state"])
                self.events.count_source_stats(message["state"])
                self.last_state = self.state.stored()
                out.append(orjson.dumps({"type": "STATE", "value": self.last_state}))
            else:
                self.events.observe(message)
        self.records = sum(counts.values())
        out.append(b"")
        return b"\n".join(out)


_CANONICAL_HEAD = b'{"type":"RECORD","record":{"stream":"'
_DATA_KEY = b'","data":'
_EMITTED_KEY = b',"emitted_at":'


def _split_canonical_record(line: bytes) -> tuple[bytes, bytes] | None:
    """``(stream, data)`` of a RECORD laid out as the Airbyte CDK writes it,
    ``{"type":"RECORD","record":{"stream":"s","data":{...},"emitted_at":N}}``, without
    decoding it; None for any other layout (then the line is decoded)."""
    if not line.startswith(_CANONICAL_HEAD) or not line.endswith(b"}}"):
        return None
    name_end = line.find(_DATA_KEY, len(_CANONICAL_HEAD))
    cut = line.rfind(_EMITTED_KEY)
    if name_end < 0 or cut < name_end:
        return None
    stream = line[len(_CANONICAL_HEAD) : name_end]
    data = line[name_end + len(_DATA_KEY) : cut]
    emitted = line[cut + len(_EMITTED_KEY) : -2]
    if b'"' in stream or b"\\" in stream or not data.startswith(b"{") or not data.endswith(b"}"):
        return None
    return (stream, data) if emitted.replace(b".", b"").isdigit() else None


class SingerToAirbyte(Translator):
    """Singer tap -> Airbyte destination. A Singer STATE travels as a LEGACY Airbyte state."""

    def __init__(self) -> None:
        super().__init__()
        self.emitted_at = int(time.time() * 1000)

    def translate(self, lines: list[bytes]) -> bytes:
        out = []
        for line in lines:
            if not line:
                continue
            message = orjson.loads(line)
            kind = message.get("type")
            if kind == "RECORD":
                stream = message["stream"]
                key = str(stream).encode()
                self.counts[key] = self.counts.get(key, 0) + 1
                self.records += 1
                out.append(
                    orjson.dumps(
                        {
                            "type": "RECORD",
                            "record": {
                                "stream": stream,
                                "data": message.get("record"),
                                "emitted_at": self.emitted_at,
                            },
                        }
                    )
                )
            elif kind == "STATE":
                self.last_state = message.get("value")
                out.append(
                    orjson.dumps(
                        {"type": "STATE", "state": {"type": "LEGACY", "data": self.last_state}}
                    )
                )
        out.append(b"")
        return b"\n".join(out)


class AirbyteToAirbyte(Translator):
    """Airbyte source -> Airbyte destination: records and states pass unchanged; the rest is
    observed and not sent on."""

    def __init__(self, state: AirbyteState, events: AirbyteEvents) -> None:
        super().__init__()
        self.state = state
        self.events = events

    def translate(self, lines: list[bytes]) -> bytes:
        out = []
        for line in lines:
            if line.startswith(_AIRBYTE_RECORD):
                self.records += 1
                out.append(line)
                continue
            if not line:
                continue
            message = orjson.loads(line)
            kind = message.get("type")
            if kind == "RECORD":
                self.records += 1
                out.append(line)
            elif kind == "STATE":
                self.state.merge(message["state"])
                self.events.count_source_stats(message["state"])
                self.last_state = self.state.stored()
                out.append(line)
            else:
                self.events.observe(message)
        out.append(b"")
        return b"\n".join(out)
