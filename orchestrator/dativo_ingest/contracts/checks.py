"""A stream's contract compiled into a validator: a typed msgspec decoder for the hot path and
an explanation of what a failing record breaks.

``failing(lines)`` decodes a chunk's RECORD lines of the stream in one call
(``decode_lines`` of the newline-joined lines the relay has anyway) into a
``msgspec`` struct type made from the contract (one field per property: its logical type,
``required``, and the options msgspec checks natively: bounds, lengths, patterns; unknown
keys refused), so decoding and checking are one pass in C. The few rules msgspec cannot
state (allowed values, missing-value markers, ``multipleOf``) run after it, on those
fields only. A chunk with a failing record is decoded again line by line to find them.

``explain(record)`` is the slow path, run only on failing records: every ``Violation``,
checked field by field with ``msgspec.convert`` against the same types and constraints, so
the two paths agree by construction. Property names are data (struct fields are ``f0``,
``f1`` renamed to them): a contract never becomes code.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Annotated, Any, Literal

import msgspec

from dativo_ingest.contracts.model import Property, SchemaObject

Kind = Literal["new_column", "type_mismatch", "rule_violation"]


@dataclass(frozen=True)
class Violation:
    """One thing a record breaks: its kind (which enforcement mode applies), the field and
    the rule, e.g. ``("rule_violation", "status", "status.invalidValues")``."""

    kind: Kind
    field: str
    rule: str


_BASES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "object": dict,
    "array": list,
    "date": date,
    "timestamp": datetime,
    "time": time,
}
_NUMERIC = ("integer", "number")
_OPTIONS: dict[str, tuple[tuple[str, ...], str]] = {  # option -> (logical types, Meta key)
    "minimum": (_NUMERIC, "ge"),
    "maximum": (_NUMERIC, "le"),
    "exclusiveMinimum": (_NUMERIC, "gt"),
    "exclusiveMaximum": (_NUMERIC, "lt"),
    "minLength": (("string",), "min_length"),
    "maxLength": (("string",), "max_length"),
    "pattern": (("string",), "pattern"),
    "minItems": (("array",), "min_length"),
    "maxItems": (("array",), "max_length"),
}
Broken = Callable[[Any], bool]  # true when a (typed, not null) value breaks a rule


@dataclass
class _Field:
    """One property: its type, what a null breaks, msgspec constraints, the other rules."""

    name: str
    attr: str
    base: Any
    null_rule: str | None = None
    constraints: list[tuple[str, msgspec.Meta]] = field(default_factory=list)
    residual: list[tuple[str, Broken]] = field(default_factory=list)

    def struct_field(self) -> tuple[Any, ...]:
        kind = self.base
        if self.constraints:
            kind = Annotated[(kind, *(meta for _, meta in self.constraints))]
        if self.null_rule is not None:
            return (self.attr, kind)  # required: absent or null fails
        return (self.attr, kind | None, None)


def _typed(values: list[Any], base: Any) -> list[Any]:
    """``values`` as the decoder gives them for ``base`` (dates parsed, ints as floats);
    those it cannot hold are left out: no value of the field can equal them."""
    typed = []
    for value in values:
        try:
            typed.append(msgspec.convert(value, base))
        except msgspec.ValidationError:
            continue
    return typed


def _not_in(values: list[Any]) -> Broken:
    hashable = frozenset(v for v in values if not isinstance(v, dict | list))
    unhashable = [v for v in values if isinstance(v, dict | list)]

    def broken(value: Any) -> bool:
        if isinstance(value, dict | list):
            return value not in unhashable
        return value not in hashable

    return broken


def _is_in(values: list[Any]) -> Broken:
    outside = _not_in(values)
    return lambda value: not outside(value)


def _not_multiple_of(step: float) -> Broken:
    def broken(value: float) -> bool:
        quotient = value / step
        return not math.isclose(quotient, round(quotient), rel_tol=0, abs_tol=1e-9)

    return broken


def _pattern_missed(pattern: str) -> Broken:
    search = re.compile(pattern).search
    return lambda value: search(str(value)) is None


def _field(index: int, prop: Property) -> _Field:
    kind = prop.logicalType
    base = Any if kind is None else _BASES[kind]
    out = _Field(prop.name, f"f{index}", base, f"{prop.name}.required" if prop.required else None)
    for option, value in prop.logicalTypeOptions.items():
        if option in _OPTIONS and kind in _OPTIONS[option][0]:
            meta = msgspec.Meta(**{_OPTIONS[option][1]: value})
            out.constraints.append((f"{prop.name}.{option}", meta))
        elif option == "multipleOf" and kind in _NUMERIC:
            out.residual.append((f"{prop.name}.multipleOf", _not_multiple_of(value)))
    for rule in prop.quality:
        if not rule.per_record:
            continue
        label = f"{prop.name}.{rule.metric}"
        if rule.metric == "nullValues":
            out.null_rule = out.null_rule or label
        elif rule.metric == "missingValues":
            missing = list(rule.arguments.get("missingValues", [None, ""]))
            if None in missing:
                out.null_rule = out.null_rule or label
            out.residual.append((label, _is_in(_typed(missing, base))))
        elif "validValues" in rule.arguments:
            valid = _typed(list(rule.arguments["validValues"]), base)
            out.residual.append((label, _not_in(valid)))
        elif "pattern" in rule.arguments:
            if kind == "string":
                out.constraints.append((label, msgspec.Meta(pattern=rule.arguments["pattern"])))
            else:
                out.residual.append((label, _pattern_missed(str(rule.arguments["pattern"]))))
    return out


@dataclass(frozen=True)
class StreamChecks:
    """One stream's compiled validator (see the module's docstring)."""

    fields: list[_Field]
    known: frozenset[str]
    decoder: msgspec.json.Decoder[Any]  # one RECORD message

    def failing(self, lines: list[bytes], joined: bytes | None = None) -> list[int]:
        """Indices of the RECORD ``lines`` whose record breaks the contract; ``joined``:
        the same lines joined by newlines, when the caller has them."""
        try:
            messages = self.decoder.decode_lines(b"\n".join(lines) if joined is None else joined)
        except msgspec.ValidationError:
            return [i for i, line in enumerate(lines) if not self._passes(line)]
        residual = [(f.attr, broken) for f in self.fields for _, broken in f.residual]
        if not residual:
            return []
        bad = []
        for i, message in enumerate(messages):
            record = message.record
            for attr, broken in residual:
                value = getattr(record, attr)
                if value is not None and broken(value):
                    bad.append(i)
                    break
        return bad

    def _passes(self, line: bytes) -> bool:
        try:
            record = self.decoder.decode(line).record
        except msgspec.ValidationError:
            return False
        for f in self.fields:
            value = getattr(record, f.attr)
            if value is not None and any(broken(value) for _, broken in f.residual):
                return False
        return True

    def explain(self, record: Any) -> list[Violation]:
        """Every violation of ``record`` (decoded), in property order after new columns."""
        if not isinstance(record, dict):
            return [Violation("type_mismatch", "", "record is not an object")]
        out = [Violation("new_column", k, f"{k}.new_column") for k in record if k not in self.known]
        for f in self.fields:
            value = record.get(f.name)
            if value is None:
                if f.null_rule is not None:
                    out.append(Violation("rule_violation", f.name, f.null_rule))
                continue
            try:
                typed = msgspec.convert(value, f.base)
            except msgspec.ValidationError:
                out.append(Violation("type_mismatch", f.name, f"{f.name}.logicalType"))
                continue
            for rule, meta in f.constraints:
                try:
                    msgspec.convert(value, Annotated[f.base, meta])
                except msgspec.ValidationError:
                    out.append(Violation("rule_violation", f.name, rule))
            out += [Violation("rule_violation", f.name, r) for r, b in f.residual if b(typed)]
        return out


def compile_checks(stream: SchemaObject) -> StreamChecks:
    """``stream``'s properties compiled into its validator."""
    fields = [_field(i, prop) for i, prop in enumerate(stream.properties)]
    record = msgspec.defstruct(
        "Record",
        [f.struct_field() for f in fields],
        rename={f.attr: f.name for f in fields},
        forbid_unknown_fields=True,
        kw_only=True,
        gc=False,
    )
    message = msgspec.defstruct("Message", [("record", record)], gc=False)
    return StreamChecks(fields, frozenset(f.name for f in fields), msgspec.json.Decoder(message))
