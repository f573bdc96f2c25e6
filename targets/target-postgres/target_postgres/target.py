"""The message loop: Singer messages in; records to the loader, confirmed STATE lines out.

A RECORD is checked (stream known, record object, key properties present, optionally its
schema) and handed to the loader, which streams it into the batch's COPY. A batch is committed
once it holds ``batch_size_rows`` records or is ``max_batch_age_seconds`` old (checked at each
STATE and every 1,000 records), before a SCHEMA change of a stream it holds, at
ACTIVATE_VERSION and at the end of input; then the latest STATE received is echoed, never
before.
"""

from __future__ import annotations

import time
import typing as t

import orjson

from target_postgres.batch_files import read_batch_records
from target_postgres.errors import InputError
from target_postgres.streams import SchemaError, spec_from_schema
from target_postgres.validation import RecordValidator

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from target_postgres.loader import Loader
    from target_postgres.settings import Settings
    from target_postgres.streams import StreamSpec

Message = dict[str, t.Any]

AGE_CHECK_EVERY = 1000  # records
_NO_STATE = object()
_NUL = "\x00"


class Target:
    """Reads messages, stages records, commits batches through ``loader``, echoes states."""

    def __init__(self, settings: Settings, loader: Loader, out: t.BinaryIO, err: t.TextIO) -> None:
        """Load through ``loader``; write confirmed states to ``out`` and warnings to ``err``."""
        self._settings = settings
        self._batch_size_rows = settings.batch_size_rows  # read for every record
        self._validate_records = settings.validate_records
        self._loader = loader
        self._out = out
        self._err = err
        self._specs: dict[str, StreamSpec] = {}
        self._validators: dict[str, RecordValidator] = {}  # with validate_records
        self._staged: set[str] = set()  # streams with records in the current batch
        self._activations: list[tuple[str, int]] = []
        self._changed = False  # a SCHEMA or ACTIVATE_VERSION since the last commit
        self._batch_rows = 0
        self._batch_started = time.monotonic()
        self._state: object = _NO_STATE
        self._warned: set[str] = set()
        self._handlers: dict[str, Callable[[int, Message], None]] = {
            "SCHEMA": self._on_schema,
            "STATE": self._on_state,
            "ACTIVATE_VERSION": self._on_activate_version,
            "BATCH": self._on_batch,
        }
        self.records_loaded = 0

    def consume(self, lines: Iterable[bytes]) -> None:
        """Process every line, then commit; on bad input, commit what came before it."""
        try:
            for number, line in enumerate(lines, 1):
                try:
                    message = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    if line.isspace():
                        continue
                    raise InputError(
                        number, f"not valid JSON ({exc.msg} at byte {exc.pos})"
                    ) from None
                if type(message) is dict and message.get("type") == "RECORD":
                    self._on_record(number, line, message)
                else:
                    self._dispatch(number, message)
        except InputError:
            self._commit()
            raise
        self._commit()

    def _dispatch(self, number: int, message: object) -> None:
        if not isinstance(message, dict):
            raise InputError(number, "not a Singer message (expected a JSON object)")
        kind = message.get("type")
        if not isinstance(kind, str):
            raise InputError(number, 'message has no "type"')
        handler = self._handlers.get(kind)
        if handler is None:
            self._warn_once(
                kind, f"input line {number}: ignoring messages of unknown type {kind!r}"
            )
        else:
            handler(number, message)

    def _on_record(self, number: int, line: bytes, message: Message) -> None:
        stream = message.get("stream")
        spec = self._specs.get(stream) if type(stream) is str else None
        if spec is None:
            raise InputError(number, f"RECORD for stream {stream!r} arrived before its SCHEMA")
        record = message.get("record")
        if type(record) is not dict:
            raise InputError(number, f'RECORD for stream {stream!r} has no "record" object')
        for key in spec.key_properties:
            if record.get(key) is None:
                raise InputError(number, f"RECORD for stream {stream!r} lacks key property {key!r}")
        if spec.decimals is not None:
            record = spec.decimals.exact(line, record)
        if self._validate_records:
            self._validate(number, spec, record)
        if b"\\u0000" in line and _has_nul(record):
            record = self._without_nul(number, stream, record)
        self._loader.stage(number, spec, record, message)
        self._staged.add(stream)
        self._batch_rows += 1
        if self._batch_rows >= self._batch_size_rows or (
            self._batch_rows % AGE_CHECK_EVERY == 0 and self._is_old()
        ):
            self._commit()

    def _validate(self, number: int, spec: StreamSpec, record: dict[str, t.Any]) -> None:
        if found := self._validators[spec.stream].problem(record):
            name, problem = found
            key = {key: record.get(key) for key in spec.key_properties}
            raise InputError(
                number,
                f"RECORD for stream {spec.stream!r} (key {key}) does not fit its schema: "
                f"field {name!r}: {problem}",
            )

    def _without_nul(self, number: int, stream: str, record: dict[str, t.Any]) -> dict[str, t.Any]:
        """Replace NUL characters (Postgres text cannot hold them) by U+FFFD, if allowed."""
        if not self._settings.sanitize_null_text_characters:
            raise InputError(
                number,
                f"RECORD for stream {stream!r} holds a NUL character (\\u0000), which Postgres "
                "cannot store; set sanitize_null_text_characters to replace it by U+FFFD",
            )
        return _replace_nul(record)

    def _on_schema(self, number: int, message: Message) -> None:
        stream = message.get("stream")
        if not isinstance(stream, str) or not stream:
            raise InputError(number, 'SCHEMA has no "stream"')
        try:
            spec = spec_from_schema(
                stream,
                message,
                self._settings.default_target_schema,
                self._settings.add_record_metadata,
            )
        except SchemaError as exc:
            raise InputError(number, f"SCHEMA for stream {stream!r}: {exc}") from None
        if self._specs.get(stream) == spec:
            return
        if stream in self._staged:  # its staged records follow the schema they came with
            self._commit()
        self._specs[stream] = spec
        if self._validate_records:
            self._validators[stream] = RecordValidator(spec.properties, spec.required)
        self._changed = True

    def _on_state(self, number: int, message: Message) -> None:
        if "value" not in message:
            raise InputError(number, 'STATE has no "value"')
        self._state = message["value"]
        if self._is_old():
            self._commit()

    def _on_activate_version(self, number: int, message: Message) -> None:
        version = message.get("version")
        spec = self._spec_of(number, message)
        if not isinstance(version, int) or isinstance(version, bool):
            raise InputError(number, 'ACTIVATE_VERSION has no integer "version"')
        if not (self._settings.activate_version and self._settings.add_record_metadata):
            self._warn_once(
                "ACTIVATE_VERSION",
                "ignoring ACTIVATE_VERSION messages (they need activate_version and "
                "add_record_metadata both true)",
            )
            return
        self._activations.append((spec.stream, version))
        self._changed = True
        self._commit()

    def _on_batch(self, number: int, message: Message) -> None:
        spec = self._spec_of(number, message)
        for raw, record in read_batch_records(number, message):
            self._on_record(number, raw, {"stream": spec.stream, "record": record})

    def _spec_of(self, number: int, message: Message) -> StreamSpec:
        """The spec of the stream a (non-RECORD) message names; its SCHEMA must have come."""
        stream = message.get("stream")
        spec = self._specs.get(stream) if type(stream) is str else None
        if spec is None:
            raise InputError(number, f"{message['type']} for stream {stream!r} before its SCHEMA")
        return spec

    def _is_old(self) -> bool:
        return time.monotonic() - self._batch_started >= self._settings.max_batch_age_seconds

    def _commit(self) -> None:
        """Commit the batch (if any), then echo the latest state (if any)."""
        if self._staged or self._changed:
            specs = self._specs
            self._loader.commit(
                specs.values(),
                [(specs[stream], version) for stream, version in self._activations],
            )
            self.records_loaded += self._batch_rows
            self._staged.clear()
            self._activations.clear()
            self._changed = False
            self._batch_rows = 0
        self._batch_started = time.monotonic()
        if self._state is not _NO_STATE:
            self._out.write(orjson.dumps(self._state, option=orjson.OPT_APPEND_NEWLINE))
            self._out.flush()
            self._state = _NO_STATE

    def _warn_once(self, topic: str, warning: str) -> None:
        if topic not in self._warned:
            self._warned.add(topic)
            print(f"target-postgres: warning: {warning}", file=self._err, flush=True)


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return _NUL in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _replace_nul(value: t.Any) -> t.Any:
    if isinstance(value, str):
        return value.replace(_NUL, "\ufffd")
    if isinstance(value, dict):
        return {_replace_nul(key): _replace_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_nul(item) for item in value]
    return value
