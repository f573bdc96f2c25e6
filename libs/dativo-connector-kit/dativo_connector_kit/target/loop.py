"""The lean targets' message loop: Singer lines in, batches committed through hooks, STATE out.

A target subclasses ``Target`` and implements its destination in four hooks: ``open_stream``
(a SCHEMA), ``write_record`` (a RECORD that passed the generic checks), ``commit_batch`` (make
every record written so far durable) and, optionally, ``takes_runs``/``take_run`` or
``write_compact_records``, ``activate_version`` and ``discard``. The loop owns parsing,
dispatch, the generic checks, BATCH files, the batch policy and the STATE echo: a STATE's
value is written on ``out`` only after the commit that covers every record before it.

Runs: compact RECORD lines, ``{"type":"RECORD","stream":<name>,"record":{...}}`` as most taps
write them, of a stream whose target ``takes_runs`` are not decoded here: the record's bytes
are cut out of each line and gathered, for consecutive lines of one stream, into a run handed
to ``take_run`` before any other line is handled, before each commit and once its records hold
the target's ``run_bytes``. The target checks
and stores the run in one go (its bytes as received, or parsed in bulk), or refuses it; a
refused run is read again line by line, as any other line is, so a bad record fails at its
line with the same error as without runs, after the records before it were taken.

Compact lines: a target that decodes whole RECORD lines faster than the loop (metadata such
as ``time_extracted`` after the record included) implements ``write_compact_records``
instead. The loop then reads with ``_read_compact``: consecutive lines of the current stream
starting as ``compact_prefix`` says go to the target together, each group ending where the
batch policy is next checked; the target takes them in order up to the first it does not
take, which the loop decodes itself before handing over the rest.
"""

from __future__ import annotations

import gc
import sys
import time
import typing as t

import orjson

from dativo_connector_kit.errors import InputError, SchemaError
from dativo_connector_kit.target.policy import AGE_CHECK_EVERY, BatchPolicy

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable

Message = dict[str, t.Any]

_NO_STATE = object()
_LINE = orjson.OPT_APPEND_NEWLINE
# A compact RECORD line is _COMPACT_START <stream name> _RECORD_KEY <record> _COMPACT_END.
_COMPACT_START = b'{"type":"RECORD","stream":'
_RECORD_KEY = b',"record":{'
_COMPACT_END = b"}}\n"
_NAME_AT = len(_COMPACT_START)
_RECORD_SKIP = len(_RECORD_KEY) - 1  # the record starts at its "{"
RUN_BYTES = 4 << 20  # the default Target.run_bytes
_NO_RUN = b"\n\n"  # no line starts so: only its last byte can be a newline


def compact_prefix(stream: str) -> bytes:
    """How a compact RECORD line of ``stream`` starts (as our taps and orjson write it)."""
    return _COMPACT_START + orjson.dumps(stream) + _RECORD_KEY


class Stream(t.Protocol):
    """What the loop reads of a target's stream object."""

    name: str
    key_properties: tuple[str, ...]


S = t.TypeVar("S", bound=Stream)


class Schema(t.NamedTuple):
    """A SCHEMA message whose shape the loop checked (a named tuple, not a dataclass: made
    in a tenth of the time at import, and start-up is part of every run)."""

    stream: str
    schema: dict[str, t.Any]
    key_properties: tuple[str, ...]
    message: Message


class Target(t.Generic[S]):
    """The loop; subclasses implement the hooks (see the module docstring)."""

    program: t.ClassVar[str] = "target"
    run_bytes: t.ClassVar[int] = RUN_BYTES
    """A run is handed to ``take_run`` once its records hold this many bytes."""

    def __init__(
        self, policy: BatchPolicy, out: t.BinaryIO | None = None, err: t.TextIO | None = None
    ) -> None:
        """Commit by ``policy``; write confirmed states to ``out`` (default: stdout) and
        warnings to ``err`` (default: stderr)."""
        self.policy = policy
        self.streams: dict[str, S] = {}
        self.records_committed = 0
        self._out = sys.stdout.buffer if out is None else out
        self._err = sys.stderr if err is None else err
        self._records = 0  # in the open batch
        self._bytes = 0
        self._next_check = 1  # the record count at which the policy is checked next
        self._opened: float | None = None  # when the open batch got its first record or change
        self._state: object = _NO_STATE
        self._warned: set[str] = set()
        self._write = self.write_record
        self._runs: dict[bytes, S] = {}  # the streams that take runs, by their names as JSON
        self._run: list[bytes] = []  # undecoded records of consecutive lines, for one stream
        self._run_stream: S | None = None
        self._run_first = 0  # the input line of the run's first record
        self._run_counted = 0  # how many of its records the batch counts already
        self._run_size = 0  # the bytes of those records
        self._run_framing = 0  # how many bytes its lines hold beside their records
        # (prefix, stream) of the stream whose compact lines go to write_compact_records
        self._compact: tuple[bytes, S] | None = None
        self._takes_compact = type(self).write_compact_records is not Target.write_compact_records
        self._handlers: dict[str, Callable[[int, Message], None]] = {
            "SCHEMA": self._on_schema,
            "STATE": self._on_state,
            "ACTIVATE_VERSION": self._on_activate_version,
            "BATCH": self._on_batch,
        }

    # --- hooks -------------------------------------------------------------------------------

    def open_stream(self, number: int, schema: Schema) -> S:
        """Return the stream a SCHEMA describes (the known one, unchanged, when nothing
        changed); commit first when records already written must keep the old schema.
        Raise ``SchemaError`` when the destination cannot take it."""
        raise NotImplementedError

    def write_record(self, number: int, stream: S, message: Message, line: bytes) -> None:
        """Take the record of ``message`` (input line ``number``, raw ``line``; its
        ``"record"`` is a dict holding the key properties) into the open batch."""
        raise NotImplementedError

    def commit_batch(self) -> None:
        """Make every record written since the last commit durable and visible."""
        raise NotImplementedError

    def takes_runs(self, stream: S) -> bool:
        """Whether the compact RECORD lines of ``stream`` are gathered undecoded into runs for
        ``take_run`` (no by default)."""
        return False

    def take_run(self, stream: S, records: list[bytes]) -> bool:
        """Take a run of undecoded records (the JSON of each, from consecutive compact RECORD
        lines, in order; none holds a newline) whole, or refuse it, taking none of them.
        Take it only when every record is a JSON object with non-null key properties; a
        refused run is read again record by record through ``write_record``, which fails at
        the first bad one. Called before any other line is handled and before each commit."""
        return False

    def write_compact_records(self, number: int, stream: S, lines: list[bytes]) -> int:
        """Optionally take RECORD lines of ``stream`` that start as ``compact_prefix`` says
        (input lines ``number``, ``number + 1``, ...) without the loop decoding them, in
        order, up to the first one the target does not take (which the loop decodes and hands
        to ``write_record``); return how many it took. A target taking a line does the
        loop's checks itself: the line is one valid message whose ``"record"`` holds every key
        property, not null."""
        return 0

    def activate_version(self, number: int, stream: S, version: int) -> None:
        """An ACTIVATE_VERSION for a known stream; ignored unless a target overrides it."""

    def discard(self) -> None:
        """Drop what is not committed, on any failure; nothing unless a target overrides it."""

    # --- the loop ----------------------------------------------------------------------------

    def consume(self, lines: Iterable[bytes]) -> None:
        """Process every line, then commit; on bad input, commit what came before it first.

        The cyclic garbage collector is paused meanwhile and runs after each commit: records
        have no cycles, and rescanning a batch of them would cost a third of the run. What
        exists before (modules, settings) is frozen out of those collections."""
        gc.disable()
        gc.freeze()
        try:
            try:
                if self._takes_compact:
                    self._read_compact(lines)
                else:
                    self._read(lines)
                self._flush_run()  # a bad record in the last run fails here, as if read
            except InputError:
                self.commit()
                raise
            self.commit()
        except BaseException:
            self.discard()
            raise
        finally:
            gc.unfreeze()
            gc.enable()

    def commit(self) -> None:
        """Commit the open batch (if it holds anything), then echo the latest STATE (if any)."""
        self._flush_run()
        if self._opened is not None:
            self.commit_batch()
            self.records_committed += self._records
            self._records = self._bytes = 0
            self._next_check = 1
            self._opened = None
            gc.collect()
        if self._state is not _NO_STATE:
            self._out.write(orjson.dumps(self._state, option=_LINE))
            self._out.flush()
            self._state = _NO_STATE

    def warn(self, warning: str) -> None:
        """Print ``<program>: warning: <warning>`` on stderr."""
        print(f"{self.program}: warning: {warning}", file=self._err, flush=True)

    def warn_once(self, topic: str, warning: str) -> None:
        """``warn``, the first time ``topic`` comes up."""
        if topic not in self._warned:
            self._warned.add(topic)
            self.warn(warning)

    def mark_changed(self) -> None:
        """Open a batch without a record (a change ``commit_batch`` must make durable)."""
        if self._opened is None:
            self._opened = time.monotonic()

    def _read(self, lines: Iterable[bytes]) -> None:
        on_line, runs, run = self._on_line, self._runs, self._run
        run_start = _NO_RUN  # how the open run's lines start, up to the record's "{"
        start_size, end_size = len(run_start), -len(_COMPACT_END)
        end = skip = 0  # where the name ends and the record starts in them
        due = 0  # the input line at which the run's records are counted, the policy applied
        for number, line in enumerate(lines, 1):
            # slices compared: quicker than startswith and endswith (they parse arguments)
            if line[:start_size] == run_start and line[end_size:] == _COMPACT_END:
                run.append(line[skip:-2])
                if number >= due:
                    due = number + self._count_run() - len(run)
                continue
            if self._run_stream is not None:
                self._end_run()
                run_start, start_size = _NO_RUN, len(_NO_RUN)
            if line.startswith(_COMPACT_START) and line.endswith(_COMPACT_END):
                end = line.find(_RECORD_KEY, _NAME_AT)
                stream = runs.get(line[_NAME_AT:end])
                if stream is not None:  # the stream takes runs: one starts here
                    skip = end + _RECORD_SKIP
                    run_start, start_size = line[: skip + 1], skip + 1
                    self._run_stream, self._run_first = stream, number
                    self._run_framing = skip + 2
                    run.append(line[skip:-2])
                    due = number + self._count_run() - len(run)
                    continue
            on_line(number, line)

    def _count_run(self) -> int:
        """Count the open run's new records (into the batch's records and bytes), apply the
        batch policy if due, hand the run over once it holds ``run_bytes``; return the run's
        length at which to come back: the next policy check, or sooner if records of the
        size just seen would fill the run before."""
        added, added_bytes = self._count_run_records()
        if self._records >= self._next_check:
            self._apply_policy()
        if self._run_size >= self.run_bytes:
            self._flush_run()
        room = (self.run_bytes - self._run_size) * added // max(1, added_bytes) + 1
        return len(self._run) + min(self._next_check - self._records, room)

    def _count_run_records(self) -> tuple[int, int]:
        """Count the records added to the open run since the last count; return how many, and
        their bytes."""
        run, counted = self._run, self._run_counted
        added = run[counted:]
        size = sum(map(len, added))
        self._records += len(added)
        self._bytes += size + len(added) * self._run_framing
        self._run_counted = len(run)
        self._run_size += size
        return len(added), size

    def _read_compact(self, lines: Iterable[bytes]) -> None:
        """Decode and dispatch each line; runs of compact RECORD lines of the stream in
        ``_compact`` go to ``write_compact_records`` together, each run ending where the
        batch policy is next checked, so that happens at the same records as line by line."""
        on_line = self._on_line
        run: list[bytes] = []  # compact lines not handed over yet, from input line `first`
        first = room = 0  # room: lines until the policy's next check
        for number, line in enumerate(lines, 1):
            compact = self._compact
            if compact and line.startswith(compact[0]):
                if not run:
                    first, room = number, self._next_check - self._records
                run.append(line)
                if len(run) >= room:
                    self._hand_over(first, compact[1], run)
                continue
            if run:
                self._hand_over(first, self._compact[1], run)  # type: ignore[index]
            on_line(number, line)
        if run:
            self._hand_over(first, self._compact[1], run)  # type: ignore[index]

    def _hand_over(self, first: int, stream: S, run: list[bytes]) -> None:
        """Hand a run of compact lines (from input line ``first``) to the target; a line it
        does not take goes through the general path, and the rest of the run is handed
        over again. Empties ``run``."""
        lines = run
        while lines:
            taken = self.write_compact_records(first, stream, lines)
            self._bytes += sum(map(len, lines[:taken]))
            self._records += taken
            if taken < len(lines):
                self._on_line(first + taken, lines[taken])
                taken += 1
            lines, first = lines[taken:], first + taken
        run.clear()
        if self._records >= self._next_check:
            self._apply_policy()

    def _on_line(self, number: int, line: bytes) -> None:
        """Decode a whole line and dispatch its message."""
        try:
            message = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            if line.isspace():
                return
            raise InputError(number, f"not valid JSON ({exc.msg} at byte {exc.pos})") from None
        if type(message) is dict and message.get("type") == "RECORD":
            self._on_record(number, line, message)
        else:
            self._on_other(number, message)

    def _end_run(self) -> None:
        """Hand over the open run (see ``_flush_run``) and close it."""
        self._flush_run()
        self._run_stream = None

    def _flush_run(self) -> None:
        """Hand the open run's records to ``take_run`` (the run stays open for the lines
        after them); if it refuses them, read their lines again one by one, decoded (which
        fails at the first bad one, as it would have without runs)."""
        stream, run = self._run_stream, self._run
        if stream is None or not run:
            return
        self._count_run_records()
        records = run[:]
        count = len(run)
        run.clear()
        self._run_counted = self._run_size = 0
        first = self._run_first
        self._run_first += count
        if self.take_run(stream, records):
            return
        start = compact_prefix(stream.name)[:-1]  # up to the record's "{"
        lines = [start + raw + _COMPACT_END[1:] for raw in records]
        self._records -= count  # counted again as each line is read
        self._bytes -= sum(map(len, lines))
        for number, line in enumerate(lines, first):
            self._on_line(number, line)

    def _on_record(self, number: int, line: bytes, message: Message) -> None:
        """Check a RECORD, hand it to ``write_record`` and apply the batch policy (every
        record goes through here: it is written for speed)."""
        try:
            stream = self.streams[message["stream"]]
        except (KeyError, TypeError):  # no "stream", an unknown or unhashable one
            stream = self._known(number, message)
        record = message.get("record")
        if type(record) is not dict:
            raise InputError(number, f'RECORD for stream {stream.name!r} has no "record" object')
        for key in stream.key_properties:
            if record.get(key) is None:
                raise InputError(
                    number, f"RECORD for stream {stream.name!r} lacks key property {key!r}"
                )
        self._write(number, stream, message, line)
        if self._takes_compact and (self._compact is None or self._compact[1] is not stream):
            self._compact = (compact_prefix(stream.name), stream)
        self._bytes += len(line)
        self._records += 1
        if self._records >= self._next_check:
            self._apply_policy()

    def _apply_policy(self) -> None:
        """At the batch's first record, and then every ``AGE_CHECK_EVERY`` records (or at
        ``max_records``): commit when a limit is reached, else schedule the next check."""
        if self._opened is None:
            self._opened = time.monotonic()
        policy, records = self.policy, self._records
        limit = records >= policy.max_records or self._bytes >= policy.max_bytes
        if limit or (records > 1 and self._is_old()):
            self.commit()
        else:
            self._next_check = min(
                policy.max_records, records - records % AGE_CHECK_EVERY + AGE_CHECK_EVERY
            )

    def _on_other(self, number: int, message: object) -> None:
        if type(message) is not dict:
            raise InputError(number, "not a Singer message (expected a JSON object)")
        kind = message.get("type")
        if type(kind) is not str:
            raise InputError(number, 'message has no "type"')
        handler = self._handlers.get(kind)
        if handler is not None:
            handler(number, message)
        else:
            self.warn_once(kind, f"input line {number}: ignoring messages of unknown type {kind!r}")

    def _on_schema(self, number: int, message: Message) -> None:
        name = message.get("stream")
        if type(name) is not str or not name:
            raise InputError(number, 'SCHEMA has no "stream"')
        schema = message.get("schema")
        if type(schema) is not dict:
            raise InputError(number, f'SCHEMA for stream {name!r} has no "schema" object')
        keys = message.get("key_properties") or []
        if type(keys) is not list or not all(type(key) is str for key in keys):
            raise InputError(
                number, f"SCHEMA for stream {name!r}: key_properties must be a list of field names"
            )
        previous = self.streams.get(name)
        try:
            stream = self.open_stream(number, Schema(name, schema, tuple(keys), message))
        except SchemaError as exc:
            raise InputError(number, f"SCHEMA for stream {name!r}: {exc}") from None
        if stream is not previous:
            self.streams[name] = stream
            if self.takes_runs(stream):
                self._runs[orjson.dumps(name)] = stream
            else:
                self._runs.pop(orjson.dumps(name), None)
            self.mark_changed()
            if self._takes_compact:
                self._compact = (compact_prefix(name), stream)

    def _on_state(self, number: int, message: Message) -> None:
        if "value" not in message:
            raise InputError(number, 'STATE has no "value"')
        self._state = message["value"]
        if self._records == 0 or self._is_old():
            self.commit()

    def _on_activate_version(self, number: int, message: Message) -> None:
        stream = self._known(number, message)
        version = message.get("version")
        if type(version) is not int:
            raise InputError(number, 'ACTIVATE_VERSION has no integer "version"')
        self.activate_version(number, stream, version)

    def _on_batch(self, number: int, message: Message) -> None:
        """Each record of each manifest file is handled as a RECORD read at this input line."""
        from dativo_connector_kit.target.batch_files import batch_records

        name = self._known(number, message).name
        for url, line_number, line, record in batch_records(number, message):
            try:
                self._on_record(number, line, {"type": "RECORD", "stream": name, "record": record})
            except InputError as exc:
                where = f"BATCH file {url} line {line_number}"
                raise InputError(number, f"{where}: {exc.problem}") from None

    def _known(self, number: int, message: Message) -> S:
        """The stream a message names; its SCHEMA must have come first."""
        name = message.get("stream")
        stream = self.streams.get(name) if type(name) is str else None
        if stream is None:
            kind = message["type"]
            if type(name) is not str:
                raise InputError(number, f'{kind} has no "stream"')
            raise InputError(number, f"{kind} for stream {name!r} arrived before its SCHEMA")
        return stream

    def _is_old(self) -> bool:
        opened = self._opened
        return opened is not None and time.monotonic() - opened >= self.policy.max_age_seconds
