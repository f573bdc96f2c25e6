"""Contract enforcement in the relay: a Singer -> Singer translator.

Lines that do not name a stream with a contract go on undecoded (RECORDs counted by marker,
STATEs decoded for the fallback, SCHEMAs decoded to notice new streams). The lines of
contracted streams in a chunk are decoded in one ``orjson.loads`` call and their records
checked in one generated loop per stream (``checks.compile_checks``); a record that passes
goes on as the source wrote it. Only a failing record is looked at closely, and each
violation meets its mode:

- ``evolve``: the record goes on; the drift is counted;
- ``discard_value``: the value becomes null (a new column is left out, and left out of the
  stream's SCHEMA), the record goes on changed and the change is quarantined;
- ``discard_row``: the record goes to the quarantine file instead of the target;
- ``freeze``: ``ContractViolationError`` before anything of the chunk is sent, so the run
  stops with the target's current batch uncommitted and the stored state unmoved.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
import orjson

from dativo_ingest.contracts.checks import StreamChecks, Violation, compile_checks
from dativo_ingest.contracts.model import AssetContract, Enforcement, Mode, SchemaObject
from dativo_ingest.contracts.quarantine import Quarantine, exact_message
from dativo_ingest.exceptions import RunFailedError
from dativo_ingest.protocol.translate import Translator

_RECORD_MARKERS = (b'"type":"RECORD"', b'"type": "RECORD"')
_SCHEMA_MARKERS = (b'"type":"SCHEMA"', b'"type": "SCHEMA"')
_STATE_MARKER = b'"STATE"'
_COMPACT = b'{"type":"RECORD","stream":"'
_COMPACT_END = b'","record":'
_NAME_AT = len(_COMPACT)
_STRENGTH: dict[Mode, int] = {"evolve": 0, "discard_value": 1, "discard_row": 2, "freeze": 3}
_MODE_OF_KIND = {
    "new_column": "new_columns",
    "type_mismatch": "type_mismatch",
    "rule_violation": "rule_violation",
}


class ContractViolationError(RunFailedError):
    """A record or stream broke a contract whose mode for it is ``freeze``."""


@dataclass
class StreamOutcome:
    """One stream's figures in the run record: records sent on unchanged, discarded
    (quarantined), changed (``discard_value``), and every rule broken with its count."""

    contract: str | None  # id@version; None for a stream no contract covers
    passed: int = 0
    discarded: int = 0
    changed: int = 0
    drift: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        if self.contract is None:  # a new stream: its records are not counted one by one
            return {"contract": None, "discarded": self.discarded, "drift": dict(self.drift)}
        return {
            "contract": self.contract,
            "passed": self.passed,
            "discarded": self.discarded,
            "changed": self.changed,
            "drift": dict(self.drift),
        }


class _Stream:
    """A contracted stream: its contract, modes, compiled checks and figures."""

    def __init__(self, contract: AssetContract, schema: SchemaObject) -> None:
        self.name = schema.name
        self.contract = contract
        self.modes: Enforcement = contract.stream_enforcement(schema)
        self.checks: StreamChecks = compile_checks(schema)
        self.outcome = StreamOutcome(contract.label)

    def mode(self, violation: Violation) -> Mode:
        mode: Mode | None = getattr(self.modes, _MODE_OF_KIND[violation.kind])
        assert mode is not None  # filled from the defaults
        return mode


def strictest_new_streams(contracts: dict[str, AssetContract]) -> Mode:
    """The ``new_streams`` mode of a job: the strictest of its contracts'."""
    modes = [c.enforcement.new_streams for c in contracts.values()]
    return max((m for m in modes if m is not None), key=_STRENGTH.__getitem__, default="evolve")


class ContractEnforcer(Translator):
    """Singer -> Singer: enforces ``contracts`` (by stream) on the stream the source sends."""

    def __init__(self, contracts: dict[str, AssetContract], quarantine: Quarantine) -> None:
        super().__init__()
        self.streams: dict[str, _Stream] = {}
        for name, contract in contracts.items():
            schema = contract.stream(name)
            assert schema is not None  # checked by config.assets
            self.streams[name] = _Stream(contract, schema)
        self.new_streams = strictest_new_streams(contracts)
        self.quarantine = quarantine
        self.uncontracted: dict[str, StreamOutcome] = {}  # new streams seen
        self.dropped: set[str] = set()  # new streams discarded whole
        self.line = 0  # lines of the source's output read so far
        self._markers = self._markers_for(self.streams)
        self._encoded = {_encoded(name): name for name in self.streams}
        self._encoded_dropped: frozenset[bytes] = frozenset()
        self._only = self._only_stream()

    @property
    def per_stream(self) -> dict[str, int]:
        """Empty: lines of streams without a contract are not told apart."""
        return {}

    def report(self) -> dict[str, dict[str, Any]]:
        """Per stream: contract, passed, discarded, changed, drift (for the run record)."""
        outcomes = {name: s.outcome for name, s in self.streams.items()}
        return {name: o.to_dict() for name, o in {**outcomes, **self.uncontracted}.items()}

    @staticmethod
    def _markers_for(names: Any) -> tuple[bytes, ...]:
        return tuple(
            b'"stream"' + sep + orjson.dumps(name) for name in names for sep in (b":", b": ")
        )

    def translate(self, lines: list[bytes]) -> bytes:
        first = self.line
        self.line += len(lines)
        replaced: dict[int, bytes] = {}  # line index -> what goes on instead (b"": nothing)
        grouped: dict[bytes, Sequence[int]] = {}  # compact RECORD lines by contracted stream
        picked: list[int] = []  # other lines naming a contracted or dropped stream
        joined = None  # the lines as they go on when nothing is replaced
        if self._only is None:
            self._sort(lines, range(len(lines)), grouped, picked, replaced, first)
        else:  # one contracted stream: its compact RECORD lines found by their head alone
            head, name = self._only
            lines.append(b"")
            joined = b"\n".join(lines)  # newline-terminated, as it goes on
            lines.pop()
            if joined.startswith(head) and joined.count(b"\n" + head) == len(lines) - 1:
                grouped[name] = range(len(lines))  # the usual chunk: nothing else in it
            else:
                joined = None
                grouped[name] = [i for i, line in enumerate(lines) if line.startswith(head)]
                rest = [i for i, line in enumerate(lines) if not line.startswith(head)]
                self._sort(lines, rest, grouped, picked, replaced, first)
        if grouped or picked:

            def check() -> None:
                for name, found in grouped.items():
                    stream = self.streams[self._encoded[name]]
                    self._check(stream, found, lines, replaced, first, joined)
                for i in picked:
                    self._picked(orjson.loads(lines[i]), i, lines, replaced, first)

            self._paused(check)
        if replaced:
            return _assembled(lines, replaced)
        if joined is not None:
            return joined
        lines.append(b"")
        return b"\n".join(lines)

    def _sort(
        self,
        lines: list[bytes],
        indices: Sequence[int],
        grouped: dict[bytes, Sequence[int]],
        picked: list[int],
        replaced: dict[int, bytes],
        first: int,
    ) -> None:
        """Sort the lines at ``indices``: RECORDs of contracted streams into ``grouped``,
        other lines naming a contracted or dropped stream into ``picked``; count the rest,
        keep the source's state, notice new streams."""
        contracted, dropped = self._encoded, self._encoded_dropped
        for i in indices:
            line = lines[i]
            if line.startswith(_COMPACT):  # {"type":"RECORD","stream":"<name>","record":
                name = line[_NAME_AT : line.find(_COMPACT_END, _NAME_AT)]
                if name in contracted:
                    found = grouped.get(name)
                    if found is None:
                        grouped[name] = [i]
                    else:
                        found.append(i)  # type: ignore[attr-defined]
                elif name in dropped or b"\\" in name or not name:
                    picked.append(i)  # dropped, or a name to decode to compare
                else:
                    self.records += 1
            elif not line:
                replaced[i] = b""
            elif any(marker in line for marker in self._markers):
                picked.append(i)
            elif _RECORD_MARKERS[0] in line or _RECORD_MARKERS[1] in line:
                self.records += 1
            elif _SCHEMA_MARKERS[0] in line or _SCHEMA_MARKERS[1] in line:
                if self._schema_of_new_stream(orjson.loads(line), first + i + 1):
                    replaced[i] = b""
                    dropped = self._encoded_dropped
            elif self.track_states and _STATE_MARKER in line:
                self._state(orjson.loads(line))

    def _paused(self, check: Callable[[], None]) -> None:
        """Run ``check`` with the cyclic collector paused (decoded records hold no cycles:
        collections would only cost time), then put the quarantine on disk before the
        target can confirm a state past it."""
        collecting = gc.isenabled()
        gc.disable()
        try:
            check()
        finally:
            if collecting:
                gc.enable()
        self.quarantine.sync()

    def _state(self, message: Any) -> None:
        if isinstance(message, dict) and message.get("type") == "STATE":
            self.last_state = message.get("value")

    def _check(
        self,
        stream: _Stream,
        found: Sequence[int],
        lines: list[bytes],
        replaced: dict[int, bytes],
        first: int,
        joined: bytes | None = None,
    ) -> None:
        """Check the RECORD lines ``found`` of ``stream`` (one decoding call); ``joined``:
        all ``lines`` joined by newlines, when ``found`` is all of them."""
        chosen = lines if len(found) == len(lines) else [lines[i] for i in found]
        try:
            bad = stream.checks.failing(chosen, joined)
        except msgspec.DecodeError:
            for i in found:
                self._decoded(lines[i], first + i + 1)
            raise
        self.records += len(found)
        stream.outcome.passed += len(found) - len(bad)
        for k in bad:
            i = found[k]
            record = self._decoded(lines[i], first + i + 1).get("record")
            self._violated(stream, record, lines[i], first + i + 1, i, replaced)

    def _picked(
        self, message: Any, i: int, lines: list[bytes], replaced: dict[int, bytes], first: int
    ) -> None:
        """A line naming a contracted or dropped stream, not in the compact RECORD layout."""
        kind = message.get("type") if isinstance(message, dict) else None
        name = message.get("stream") if kind else None
        if kind == "RECORD" and name in self.streams:
            self._check(self.streams[name], [i], lines, replaced, first)
        elif kind == "RECORD" and name in self.dropped:
            self._quarantine_new_stream(name, lines[i], first + i + 1)
            replaced[i] = b""
        else:
            self._other(message, kind, name, i, replaced, first)

    def _decoded(self, line: bytes, number: int) -> Any:
        try:
            return orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise RunFailedError(
                f"line {number} of the source's output is not JSON: {exc}"
            ) from None

    def _other(
        self,
        message: Any,
        kind: Any,
        name: Any,
        i: int,
        replaced: dict[int, bytes],
        first: int,
    ) -> None:
        """A line naming a contracted stream that is not one of its records."""
        if kind == "RECORD":  # a contracted stream's name inside another stream's record
            self.records += 1
        elif kind == "STATE" and self.track_states:
            self.last_state = message.get("value")
        elif kind == "SCHEMA" and name in self.streams:
            schema = self._schema(self.streams[name], message)
            if schema is not None:
                replaced[i] = schema
        elif kind == "SCHEMA" and name in self.dropped:
            replaced[i] = b""
        elif kind == "BATCH" and name in self.streams:
            raise ContractViolationError(
                f"{name}: a BATCH message (line {first + i + 1}) cannot be checked against "
                f"{self.streams[name].contract.label}: turn batch messages off in the tap"
            )

    def _schema(self, stream: _Stream, message: dict[str, Any]) -> bytes | None:
        """The SCHEMA without the new columns a discard mode leaves out; None: unchanged."""
        if stream.modes.new_columns not in ("discard_row", "discard_value"):
            return None
        schema = message.get("schema") or {}
        properties = schema.get("properties") or {}
        new = [p for p in properties if p not in stream.checks.known]
        if not new:
            return None
        kept = {k: v for k, v in properties.items() if k not in new}
        schema = {**schema, "properties": kept}
        if isinstance(schema.get("required"), list):
            schema["required"] = [r for r in schema["required"] if r not in new]
        return orjson.dumps({**message, "schema": schema})

    def _violated(
        self,
        stream: _Stream,
        record: Any,
        line: bytes,
        number: int,
        i: int,
        replaced: dict[int, bytes],
    ) -> None:
        name = stream.name
        violations = stream.checks.explain(record)
        stream.outcome.drift.update(v.rule for v in violations)
        strongest = max(
            (stream.mode(v) for v in violations), key=_STRENGTH.__getitem__, default="evolve"
        )
        rules = [v.rule for v in violations]
        if strongest == "freeze":
            frozen = [v.rule for v in violations if stream.mode(v) == "freeze"]
            raise ContractViolationError(
                f"{name}: line {number} of the source's output breaks the contract "
                f"{stream.contract.label} ({', '.join(frozen)}), whose mode for it is freeze: "
                "the run stops before the target commits this batch; the stored state does "
                "not move"
            )
        if strongest == "evolve":
            stream.outcome.passed += 1
            return
        message = exact_message(line)
        entry: dict[str, Any] = {
            "contract": {"id": stream.contract.id, "version": stream.contract.version},
            "line": number,
            "rules": rules,
        }
        if strongest == "discard_row":
            self.quarantine.add(name, {**entry, "action": "discard_row", **_record(message)})
            stream.outcome.discarded += 1
            self.records -= 1
            replaced[i] = b""
            return
        original = dict(message["record"])
        changed = message["record"]
        for v in violations:
            if stream.mode(v) != "discard_value":
                continue
            if v.kind == "new_column":
                changed.pop(v.field, None)
            elif v.field:
                changed[v.field] = None
        fields = sorted({v.field for v in violations if stream.mode(v) == "discard_value"})
        self.quarantine.add(
            name,
            {
                **entry,
                "action": "discard_value",
                "fields": fields,
                "stream": name,
                "record": original,
            },
        )
        stream.outcome.changed += 1
        replaced[i] = orjson.dumps(message)

    def _only_stream(self) -> tuple[bytes, bytes] | None:
        """(compact RECORD head, encoded name) when one stream has a contract and none is
        dropped."""
        if len(self.streams) != 1 or self.dropped:
            return None
        name = _encoded(next(iter(self.streams)))
        return _COMPACT + name + _COMPACT_END, name

    def _schema_of_new_stream(self, message: Any, number: int) -> bool:
        """Note a SCHEMA of a stream no contract covers; True when it is to be dropped."""
        name = message.get("stream") if isinstance(message, dict) else None
        if not isinstance(name, str) or name in self.uncontracted or name in self.streams:
            return name in self.dropped
        outcome = self.uncontracted[name] = StreamOutcome(None)
        outcome.drift["new_stream"] += 1
        if self.new_streams == "freeze":
            raise ContractViolationError(
                f"{name}: the source sends a stream no contract covers (line {number}) and "
                "new_streams is freeze: the run stops before the target commits anything of "
                "it; the stored state does not move"
            )
        if self.new_streams == "discard_row":
            self.dropped.add(name)
            self._markers = self._markers_for([*self.streams, *self.dropped])
            self._encoded_dropped = frozenset(_encoded(n) for n in self.dropped)
            self._only = None
            return True
        return False

    def _quarantine_new_stream(self, name: str, line: bytes, number: int) -> None:
        message = exact_message(line)
        entry = {"contract": None, "line": number, "rules": ["new_stream"]}
        self.quarantine.add(name, {**entry, "action": "discard_row", **_record(message)})
        self.uncontracted[name].discarded += 1


def _assembled(lines: list[bytes], replaced: dict[int, bytes]) -> bytes:
    """``lines`` with ``replaced`` ones swapped (b"": left out), newline-terminated."""
    out = [replaced.get(i, line) for i, line in enumerate(lines)]
    out = [line for line in out if line]
    out.append(b"")
    return b"\n".join(out) if len(out) > 1 else b""


def _encoded(name: str) -> bytes:
    """A stream name as it sits between the quotes of a compact RECORD line."""
    return orjson.dumps(name)[1:-1]


def _record(message: dict[str, Any]) -> dict[str, Any]:
    return {"stream": message.get("stream"), "record": message.get("record")}
