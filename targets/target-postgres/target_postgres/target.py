"""target-postgres on the connector kit's loop: records streamed into the batch's COPY by the
``Loader``, one transaction per batch.

A RECORD is optionally checked against its schema, cleared of NUL characters when allowed, and
staged. Beyond the kit's batch policy, a batch is committed before a SCHEMA change of a stream
it holds and at every ACTIVATE_VERSION.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from dativo_connector_kit.target import InputError, SchemaError
from dativo_connector_kit.target import Target as KitTarget
from target_postgres import streams
from target_postgres.validation import RecordValidator

if t.TYPE_CHECKING:
    from dativo_connector_kit.target import Message, Schema
    from target_postgres.loader import Loader
    from target_postgres.settings import Settings
    from target_postgres.streams import StreamSpec

_NUL = "\x00"


@dataclass(frozen=True, slots=True)
class Stream:
    """A stream's spec (table and columns) and its validator (with ``validate_records``)."""

    name: str
    key_properties: tuple[str, ...]
    spec: StreamSpec
    validator: RecordValidator | None


class Target(KitTarget[Stream]):
    """Stages records through ``loader`` and commits them there, one transaction a batch."""

    program = "target-postgres"

    def __init__(self, settings: Settings, loader: Loader) -> None:
        """Write records through ``loader``."""
        super().__init__(settings.batch)
        self._settings = settings
        self._loader = loader
        self._activations: list[tuple[StreamSpec, int]] = []

    def open_stream(self, number: int, schema: Schema) -> Stream:
        """The stream's spec; a changed one commits the records staged under the old one."""
        name = schema.stream
        try:
            spec = streams.spec_from_schema(
                name,
                schema.message,
                self._settings.default_target_schema,
                self._settings.add_record_metadata,
            )
        except streams.SchemaError as exc:
            raise SchemaError(str(exc)) from None
        previous = self.streams.get(name)
        if previous is not None and previous.spec == spec:
            return previous
        if self._loader.holds(name):  # its staged records follow the schema they came with
            self.commit()
        validator = (
            RecordValidator(spec.properties, spec.required)
            if self._settings.validate_records
            else None
        )
        return Stream(name, spec.key_properties, spec, validator)

    def write_record(self, number: int, stream: Stream, message: Message, line: bytes) -> None:
        """Validate (optionally) and stage one record in the batch's COPY."""
        record = message["record"]
        if stream.spec.decimals is not None:
            record = stream.spec.decimals.exact(line, record)
        if stream.validator is not None:
            self._validate(number, stream, stream.validator, record)
        if b"\\u0000" in line and _has_nul(record):
            record = self._without_nul(number, stream.name, record)
        self._loader.stage(number, stream.spec, record, message)

    def write_compact_records(self, number: int, stream: Stream, lines: list[bytes]) -> int:
        """Stage compact RECORD lines without decoding them to dicts, when nothing needs the
        dicts (no ``validate_records``) and the loader can (see ``compact``)."""
        if stream.validator is not None:
            return 0
        return self._loader.stage_compact(number, stream.spec, lines)

    def commit_batch(self) -> None:
        """Commit the batch in one transaction (tables made to fit every stream seen)."""
        self._loader.commit([stream.spec for stream in self.streams.values()], self._activations)
        self._activations.clear()

    def activate_version(self, number: int, stream: Stream, version: int) -> None:
        """Retire the stream's rows of older versions, in a commit of its own."""
        if not (self._settings.activate_version and self._settings.add_record_metadata):
            self.warn_once(
                "ACTIVATE_VERSION",
                "ignoring ACTIVATE_VERSION messages (they need activate_version and "
                "add_record_metadata both true)",
            )
            return
        self._activations.append((stream.spec, version))
        self.mark_changed()
        self.commit()

    def _validate(
        self, number: int, stream: Stream, validator: RecordValidator, record: dict[str, t.Any]
    ) -> None:
        if found := validator.problem(record):
            name, problem = found
            key = {key: record.get(key) for key in stream.key_properties}
            raise InputError(
                number,
                f"RECORD for stream {stream.name!r} (key {key}) does not fit its schema: "
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
