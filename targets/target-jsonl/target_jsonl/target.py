"""The message loop: Singer messages in; JSONL files and durable STATE lines out."""

from __future__ import annotations

import time
import typing as t

import orjson

from target_jsonl.errors import InputError

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from target_jsonl.files import StreamFiles
    from target_jsonl.settings import Settings

Message = dict[str, t.Any]

_NO_STATE = object()
_FORBIDDEN_IN_NAMES = ("/", "\\", "\0")


class Target:
    """Appends each stream's records to its file; echoes a STATE only once it is durable.

    A STATE is echoed on ``out`` as its bare value, after every record received before it has
    been flushed and fsync'ed. That happens at a STATE message once ``batch_size_rows`` records
    were written or ``max_batch_age_seconds`` passed since the last checkpoint, and at the end.
    """

    def __init__(
        self, settings: Settings, files: StreamFiles, out: t.BinaryIO, err: t.TextIO
    ) -> None:
        """Write records through ``files``, states to ``out``, warnings to ``err``."""
        self._settings = settings
        self._files = files
        self._out = out
        self._err = err
        self._key_properties: dict[str, list[str]] = {}
        self._pending_state: object = _NO_STATE
        self._rows_since_checkpoint = 0
        self._last_checkpoint = time.monotonic()
        self._unknown_types: set[str] = set()
        self._handlers: dict[str, Callable[[int, Message], None]] = {
            "SCHEMA": self._on_schema,
            "RECORD": self._on_record,
            "STATE": self._on_state,
            "ACTIVATE_VERSION": lambda _number, _message: None,
        }
        self.records_written = 0

    def consume(self, lines: Iterable[bytes]) -> None:
        """Process every line, then checkpoint; on bad input, checkpoint what came before it."""
        try:
            for number, line in enumerate(lines, 1):
                self._handle(number, line)
        except InputError:
            self._checkpoint()
            raise
        self._checkpoint()

    def _handle(self, number: int, line: bytes) -> None:
        try:
            message = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            if line.isspace():
                return
            raise InputError(number, f"not valid JSON ({exc.msg} at byte {exc.pos})") from None
        if not isinstance(message, dict):
            raise InputError(number, "not a Singer message (expected a JSON object)")
        kind = message.get("type")
        if not isinstance(kind, str):
            raise InputError(number, 'message has no "type"')
        handler = self._handlers.get(kind)
        if handler is None:
            self._warn_unknown(number, kind)
        else:
            handler(number, message)

    def _on_schema(self, number: int, message: Message) -> None:
        stream = message.get("stream")
        if not isinstance(stream, str) or not stream:
            raise InputError(number, 'SCHEMA has no "stream"')
        if stream in (".", "..") or any(char in stream for char in _FORBIDDEN_IN_NAMES):
            raise InputError(number, f"stream name {stream!r} cannot be used as a file name")
        self._key_properties[stream] = message.get("key_properties") or []

    def _on_record(self, number: int, message: Message) -> None:
        stream = message.get("stream")
        if not isinstance(stream, str):
            raise InputError(number, 'RECORD has no "stream"')
        if stream not in self._key_properties:
            raise InputError(number, f"RECORD for stream {stream!r} arrived before its SCHEMA")
        record = message.get("record")
        if not isinstance(record, dict):
            raise InputError(number, f'RECORD for stream {stream!r} has no "record" object')
        self._files.append(stream, orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
        self._rows_since_checkpoint += 1

    def _on_state(self, number: int, message: Message) -> None:
        if "value" not in message:
            raise InputError(number, 'STATE has no "value"')
        self._pending_state = message["value"]
        age = time.monotonic() - self._last_checkpoint
        if (
            self._rows_since_checkpoint >= self._settings.batch_size_rows
            or age >= self._settings.max_batch_age_seconds
        ):
            self._checkpoint()

    def _checkpoint(self) -> None:
        """Make every record received so far durable, then echo the latest state, if any."""
        self._files.sync()
        self.records_written += self._rows_since_checkpoint
        self._rows_since_checkpoint = 0
        self._last_checkpoint = time.monotonic()
        if self._pending_state is not _NO_STATE:
            self._out.write(orjson.dumps(self._pending_state, option=orjson.OPT_APPEND_NEWLINE))
            self._out.flush()
            self._pending_state = _NO_STATE

    def _warn_unknown(self, number: int, kind: str) -> None:
        if kind not in self._unknown_types:
            self._unknown_types.add(kind)
            print(
                f"target-jsonl: warning: input line {number}: ignoring messages of unknown "
                f"type {kind!r}",
                file=self._err,
            )
