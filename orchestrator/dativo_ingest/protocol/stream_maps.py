"""Inline stream maps: the Singer SDK's ``stream_maps`` syntax, applied by the relay.

A job's ``stream_maps`` is keyed by stream name. Under a stream, a property set to an
expression is added or replaced, one set to ``null`` is dropped; ``__alias__`` renames the
stream, ``__filter__`` keeps the records its expression is true for, ``__else__: null``
drops every property not named, ``__key_properties__`` sets the key. A stream set to
``null`` is dropped whole. A property may also be ``{expression: ..., type: ...}`` to declare
its JSON-schema type (else a bare property name keeps that property's schema, ``int(``,
``float(``, ``bool(`` give their types, and anything else is a string).

``StreamMapper`` is a Singer -> Singer translator: lines of streams without maps go on
undecoded; only lines that name a mapped stream are decoded and rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import not_
from typing import Any

import orjson

from dativo_ingest.exceptions import RunFailedError
from dativo_ingest.protocol.expressions import (
    FAILURES,
    Evaluate,
    ExpressionError,
    Generator,
    bare_name,
    compile_unchecked,
    failure,
)
from dativo_ingest.protocol.map_runs import Batch, RunMap
from dativo_ingest.protocol.translate import Translator

_RECORD_MARKERS = (b'"type":"RECORD"', b'"type": "RECORD"')
_STATE_MARKER = b'"STATE"'
_OPTIONS = ("__alias__", "__filter__", "__else__", "__key_properties__")
_TYPED_CALLS = {"int(": "integer", "float(": "number", "bool(": "boolean"}


class StreamMapConfigError(ValueError):
    """Bad ``stream_maps``: ``problems`` are (key path, reason) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{where}: {reason}" for where, reason in problems))


class StreamMapError(RunFailedError):
    """A map failed on a message of the stream (an expression, a dropped key property)."""


@dataclass(frozen=True)
class Computed:
    """One added or replaced property."""

    name: str
    evaluate: Evaluate
    source: str | None  # the property it copies, when the expression is a bare name
    declared_type: dict[str, Any] | None
    expression: str


@dataclass
class StreamMap:
    """What happens to one stream."""

    stream: str
    drop_stream: bool = False
    alias: str | None = None
    keep: Evaluate | None = None
    filter_text: str = ""
    drop_others: bool = False
    key_properties: list[str] | None = None
    dropped: set[str] = field(default_factory=set)
    computed: list[Computed] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The stream's name downstream."""
        return self.alias or self.stream

    def record(self, record: dict[str, Any], line: int) -> dict[str, Any] | None:
        """The mapped record, or None when the filter drops it; ``line`` (of the source's
        output) is named when an expression fails. ``record`` is reused."""
        if self.keep is not None:
            try:
                if not self.keep(record, None):
                    return None
            except FAILURES as exc:
                raise self._failed("__filter__", self.filter_text, line, exc) from None
        values = []
        for prop in self.computed:  # every expression sees the record as it came
            try:
                values.append(prop.evaluate(record, record.get(prop.name)))
            except FAILURES as exc:
                raise self._failed(prop.name, prop.expression, line, exc) from None
        out = {} if self.drop_others else record
        for name in self.dropped:
            out.pop(name, None)
        for prop, value in zip(self.computed, values, strict=True):
            out[prop.name] = value
        return out

    def batch(self) -> tuple[Batch, bool]:
        """``record`` over decoded RECORD messages (``.record``, ``.stream``) as one loop
        generated for this map, returning the messages it keeps, mapped in place; a failing
        expression raises its bare exception. With it, whether it takes raw records: values
        left as ``msgspec.Raw``, decoded only where an expression reads them (a renamed value
        moves undecoded); unless an expression reads the whole record."""
        generator = Generator(checked=False, raw=True)
        body = self._values(generator)
        if generator.reads_record:
            generator = Generator(checked=False, raw=False)
            body = self._values(generator)
        body.append("o = {}" if self.drop_others else "o = r")
        body += [f"o.pop({generator.namespace_name(name)}, None)" for name in self.dropped]
        body += [
            f"o[{generator.namespace_name(prop.name)}] = v{i}"
            for i, prop in enumerate(self.computed)
        ]
        if self.drop_others:
            body.append("m.record = o")
        return self._loop(generator, body), generator.raw

    def output_keys(self, keys: tuple[str, ...]) -> list[str]:
        """The properties, in order, of a mapped record whose properties were ``keys``."""
        out = {} if self.drop_others else dict.fromkeys(keys)
        for name in self.dropped:
            out.pop(name, None)
        out.update(dict.fromkeys(prop.name for prop in self.computed))
        return list(out)

    def layout_batch(
        self, keys: tuple[str, ...], mapped: type
    ) -> tuple[Batch, frozenset[str]] | None:
        """``batch`` for raw records that are structs holding exactly ``keys`` (``keys[i]``
        as attribute ``f{i}``), each mapped into a ``mapped`` struct built from the values of
        ``output_keys`` in order; with it, the properties the struct is to hold decoded (read
        by an expression and not sent on as they came). None when an expression reads the
        whole record or a property outside ``keys`` (the records have none: ``batch`` says
        what happens)."""
        fields = {key: f"f{i}" for i, key in enumerate(keys)}
        generator = Generator(checked=False, raw=True, fields=fields)
        self._values(generator)
        if generator.reads_record or generator.unknown:
            return None
        assigned = {prop.name: f"v{i}" for i, prop in enumerate(self.computed)}
        sent_on = set(self.output_keys(keys)) - set(assigned)
        decoded = frozenset(generator.reads - sent_on)
        generator = Generator(checked=False, raw=True, fields=fields, decoded=decoded)
        body = self._values(generator)
        values = [assigned.get(key) or generator.stored(key) for key in self.output_keys(keys)]
        body.append(f"m.record = {generator.namespace_name(mapped)}({', '.join(values)})")
        return self._loop(generator, body), decoded

    def _values(self, generator: Generator) -> list[str]:
        """The statements filtering one record ``r`` and computing its values ``v0``..."""
        body = []
        if self.keep is not None:
            body.append(f"if not {generator.source(self.filter_text)}: continue")
        for i, prop in enumerate(self.computed):
            if prop.source is not None:  # the value as it came, decoded or not
                body.append(f"v{i} = {generator.stored(prop.source)}")
                continue
            generator.reads_current = False
            value = generator.source(prop.expression)
            if generator.reads_current:
                body.append(f"s = {generator.current(prop.name)}")
            body.append(f"v{i} = {value}")
        return body

    def _loop(self, generator: Generator, body: list[str]) -> Batch:
        """The loop over messages ``m`` running ``body`` on each record ``r``."""
        if self.alias is not None:
            body.append(f"m.stream = {generator.namespace_name(self.alias)}")
        loop = "".join(f"        {line}\n" for line in ["r = m.record", *body, "keep(m)"])
        source = (
            "def map_batch(messages):\n    kept = []\n    keep = kept.append\n"
            f"    for m in messages:\n{loop}    return kept\n"
        )
        batch: Batch = generator.function(source, "map_batch")
        return batch

    def _failed(self, key: str, text: str, line: int, exc: Exception) -> StreamMapError:
        where = f"stream_maps.{self.stream}.{key}"
        reason = failure(text, exc)
        return StreamMapError(f"{where}: on line {line} of the source's output: {reason}")

    def schema(self, message: dict[str, Any]) -> dict[str, Any]:
        """The SCHEMA message rewritten to match the mapped records."""
        schema = dict(message.get("schema") or {})
        properties: dict[str, Any] = dict(schema.get("properties") or {})
        kept = {} if self.drop_others else {k: v for k, v in properties.items()}
        for name in self.dropped:
            kept.pop(name, None)
        renamed: dict[str, str] = {}
        for prop in self.computed:
            if prop.declared_type is not None:
                kept[prop.name] = prop.declared_type
            elif prop.source is not None and prop.source in properties:
                kept[prop.name] = properties[prop.source]
                renamed.setdefault(prop.source, prop.name)
            else:
                kept[prop.name] = {"type": _inferred_type(prop.expression)}
        schema["properties"] = kept
        if isinstance(schema.get("required"), list):
            schema["required"] = [name for name in schema["required"] if name in kept]
        out = {**message, "stream": self.name, "schema": schema}
        out["key_properties"] = self._keys(list(message.get("key_properties") or []), kept, renamed)
        return out

    def _keys(self, keys: list[str], kept: dict[str, Any], renamed: dict[str, str]) -> list[str]:
        if self.key_properties is not None:
            return self.key_properties
        mapped = []
        for key in keys:
            if key in kept and key not in self.dropped:
                mapped.append(key)
            elif key in renamed:
                mapped.append(renamed[key])
            else:
                raise StreamMapError(
                    f"stream_maps.{self.stream}: drops the key property {key!r}; copy it "
                    f"under a new name (new_name: {key}) or set __key_properties__"
                )
        return mapped


def _run_map(stream: str, stream_map: StreamMap) -> RunMap:
    """``stream_map`` over runs of compact RECORD lines, on undecoded values when it can."""
    head = b'{"type":"RECORD","stream":' + orjson.dumps(stream) + b',"record":'
    return RunMap(stream, head, stream_map)


def _index(flags: list[bool], value: bool, start: int) -> int:
    """The first index from ``start`` where ``flags`` holds ``value``, else its length."""
    try:
        return flags.index(value, start)
    except ValueError:
        return len(flags)


def _inferred_type(expression: str) -> list[str]:
    for call, kind in _TYPED_CALLS.items():
        if expression.strip().startswith(call):
            return [kind, "null"]
    return ["string", "null"]


def compile_stream_maps(raw: Any) -> dict[str, StreamMap]:
    """Each stream's ``StreamMap`` from a job's ``stream_maps``; ``StreamMapConfigError``
    listing every problem with its key path."""
    if not isinstance(raw, dict):
        raise StreamMapConfigError([("stream_maps", "expected a mapping of stream names")])
    problems: list[tuple[str, str]] = []
    maps = {}
    for stream, spec in raw.items():
        where = f"stream_maps.{stream}"
        if spec is None or spec == "__NULL__":
            maps[stream] = StreamMap(str(stream), drop_stream=True)
        elif isinstance(spec, dict):
            maps[stream] = _stream_map(str(stream), spec, where, problems)
        else:
            problems.append((where, "expected a mapping of properties, or null to drop it"))
    if problems:
        raise StreamMapConfigError(problems)
    return maps


def _stream_map(
    stream: str, spec: dict[str, Any], where: str, problems: list[tuple[str, str]]
) -> StreamMap:
    mapped = StreamMap(stream)
    alias = spec.get("__alias__")
    if alias is not None and not (isinstance(alias, str) and alias):
        problems.append((f"{where}.__alias__", "expected a stream name"))
    mapped.alias = alias
    if "__filter__" in spec:
        mapped.keep = _expression(spec["__filter__"], f"{where}.__filter__", problems)
        mapped.filter_text = str(spec["__filter__"])
    if "__else__" in spec:
        if spec["__else__"] not in (None, "__NULL__"):
            problems.append((f"{where}.__else__", "only null (drop the others) is supported"))
        mapped.drop_others = True
    if "__key_properties__" in spec:
        keys = spec["__key_properties__"]
        if not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)):
            problems.append((f"{where}.__key_properties__", "expected a list of names"))
        mapped.key_properties = keys
    for name, value in spec.items():
        name = str(name)
        at = f"{where}.{name}"
        if name.startswith("__"):
            if name not in _OPTIONS:
                problems.append((at, f"unknown option; one of {', '.join(_OPTIONS)}"))
            continue
        if value is None or value == "__NULL__":
            mapped.dropped.add(name)
            continue
        declared = None
        if isinstance(value, dict):
            unknown = set(value) - {"expression", "type"}
            if unknown or "expression" not in value:
                problems.append((at, "expected {expression: ..., type: ...}"))
                continue
            declared = _declared_type(value.get("type"), f"{at}.type", problems)
            value = value["expression"]
        evaluate = _expression(value, at, problems)
        if evaluate is not None:
            text = str(value)
            mapped.computed.append(Computed(name, evaluate, bare_name(text), declared, text))
    return mapped


def _expression(value: Any, where: str, problems: list[tuple[str, str]]) -> Evaluate | None:
    if not isinstance(value, str):
        problems.append((where, f"expected an expression (a string), got {value!r}"))
        return None
    try:
        return compile_unchecked(value)
    except ExpressionError as exc:
        problems.append((where, str(exc)))
        return None


def _declared_type(value: Any, where: str, problems: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        return {"type": [value, "null"]}
    if isinstance(value, dict):
        return value
    problems.append((where, "expected a JSON-schema type name or schema"))
    return None


class StreamMapper(Translator):
    """Singer -> Singer: applies ``maps`` to the streams they name; other lines pass as they
    came, without being decoded.

    Compact RECORD lines of a mapped stream are mapped a run of lines at a time
    (``map_runs``); any other line naming a mapped stream, and a run the fast path does not
    fit, is decoded and mapped line by line."""

    def __init__(self, maps: dict[str, StreamMap]) -> None:
        super().__init__()
        self.maps = maps
        self.line = 0  # lines of the source's output read so far
        self.filtered = 0
        self._markers = tuple(
            b'"stream"' + sep + orjson.dumps(name) for name in maps for sep in (b":", b": ")
        )
        self._runs = [
            _run_map(name, stream_map)
            for name, stream_map in maps.items()
            if not stream_map.drop_stream
        ]

    @property
    def per_stream(self) -> dict[str, int]:
        """Empty: unmapped lines are counted without telling streams apart."""
        return {}

    def translate(self, lines: list[bytes]) -> bytes:
        out: list[bytes] = []  # pieces, each newline-terminated
        first, count = self.line, len(lines)
        starts = [  # each run map, and which lines start as its runs do
            (run_map, list(map(bytes.startswith, lines, repeat(run_map.head))))
            for run_map in self._runs
        ]
        i = 0
        while i < count:
            found = next(((m, started) for m, started in starts if started[i]), None)
            if found is None:
                end = min((_index(started, True, i) for _, started in starts), default=count)
                self._others(lines[i:end], first + i, out)
            else:
                end = _index(found[1], False, i)
                self._run(found[0], lines[i:end], first + i, out)
            i = end
        self.line += count
        return b"".join(out)

    def _run(self, run_map: RunMap, run: list[bytes], before: int, out: list[bytes]) -> None:
        """Map the compact RECORD lines ``run`` (after line ``before``) into ``out``."""
        rewritten = run_map.rewrite(run)
        if rewritten is None:
            self._others(run, before, out)  # the exact path, naming a failure
            return
        data, kept = rewritten
        self.records += kept
        self.filtered += len(run) - kept
        if data:
            out.append(data)

    def _others(self, lines: list[bytes], before: int, out: list[bytes]) -> None:
        """Lines (after line ``before``) into ``out`` as ``_other`` makes them: in bulk when
        none names a mapped stream, else one by one."""
        joined = b"\n".join(lines)
        if self._unmapped(lines, joined):
            out += (joined, b"\n")
            return
        kept = []
        for number, line in enumerate(lines, before + 1):
            other = self._other(line, number)
            if other:
                kept.append(other)
        if kept:
            kept.append(b"")
            out.append(b"\n".join(kept))

    def _unmapped(self, lines: list[bytes], joined: bytes) -> bool:
        """What ``_other`` does with each of ``lines`` (``joined`` by newlines), done for all
        at once when none names a mapped stream, is empty or is a spaced RECORD; else False,
        and nothing done."""
        spaced = _RECORD_MARKERS[1] in joined
        if spaced or b"" in lines or any(marker in joined for marker in self._markers):
            return False
        records = list(map(bytes.__contains__, lines, repeat(_RECORD_MARKERS[0])))
        self.records += records.count(True)
        if self.track_states and _STATE_MARKER in joined:
            for line in compress(lines, map(not_, records)):
                if _STATE_MARKER in line:
                    self._state(line)
        return True

    def _other(self, line: bytes, number: int) -> bytes:
        """Any line but a mapped stream's compact RECORD: as it came when it names no mapped
        stream (counted, its STATE kept), else decoded and mapped; b"" when dropped."""
        if not line:
            return line
        if not any(marker in line for marker in self._markers):
            if _RECORD_MARKERS[0] in line or _RECORD_MARKERS[1] in line:
                self.records += 1
            elif self.track_states and _STATE_MARKER in line:
                self._state(line)
            return line
        return self._mapped(orjson.loads(line), line, number)

    def _state(self, line: bytes) -> None:
        message = orjson.loads(line)
        if isinstance(message, dict) and message.get("type") == "STATE":
            self.last_state = message.get("value")

    def _mapped(self, message: dict[str, Any], line: bytes, number: int) -> bytes:
        """The rewritten line, or b"" when the message is dropped."""
        kind = message.get("type")
        stream_map = self.maps.get(message.get("stream"))  # type: ignore[arg-type]
        if stream_map is None:  # a mapped stream's name inside another message
            if kind == "RECORD":
                self.records += 1
            elif kind == "STATE" and self.track_states:
                self.last_state = message.get("value")
            return line
        if stream_map.drop_stream:
            return b""
        if kind == "RECORD":
            record = stream_map.record(message["record"], number)
            if record is None:
                self.filtered += 1
                return b""
            self.records += 1
            message["record"] = record
        elif kind == "SCHEMA":
            message = stream_map.schema(message)
        elif kind == "BATCH":
            raise StreamMapError(
                f"stream_maps.{stream_map.stream}: a BATCH message (line {number}) "
                "cannot be mapped: turn batch messages off in the tap"
            )
        message["stream"] = stream_map.name
        return orjson.dumps(message)
