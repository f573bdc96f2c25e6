"""A stream's contract compiled into two functions over decoded records.

``failing(messages)`` is the hot path: the indices of the RECORD messages (decoded, each
with its ``record``) whose record breaks anything (a new column, a type, a rule), in one
generated loop with every check inlined. ``explain(record)``
is the slow path, run only on those: every ``Violation`` of the record. Both are generated
from the same per-check expressions, so they cannot disagree.

The generated source is made only of this module's templates: every name, pattern and
number from the contract is reached through a constants tuple (``C[3]``), never written
into the source, so a contract cannot inject code.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Literal

from dativo_ingest.contracts.model import Property, SchemaObject

Kind = Literal["new_column", "type_mismatch", "rule_violation"]


@dataclass(frozen=True)
class Violation:
    """One thing a record breaks: its kind (which enforcement mode applies), the field and
    the rule, e.g. ``("rule_violation", "status", "status.invalidValues")``."""

    kind: Kind
    field: str
    rule: str


_TYPE_TESTS = {  # logicalType -> an expression true when ``v`` (not null) is NOT of it
    "string": "type(v) is not str",
    "integer": "type(v) is not int",
    "number": "(type(v) is not float and type(v) is not int)",
    "boolean": "type(v) is not bool",
    "object": "type(v) is not dict",
    "array": "type(v) is not list",
    "date": "type(v) is not str",  # and parsed: see _FieldChecks.parse
    "timestamp": "type(v) is not str",
    "time": "type(v) is not str",
}
_ISO_PARSERS: dict[str, Callable[[str], Any]] = {
    "date": date.fromisoformat,
    "timestamp": datetime.fromisoformat,
    "time": time.fromisoformat,
}
_BOUNDS = {  # logicalTypeOptions -> an expression true when ``v`` breaks it
    "minimum": "v < {c}",
    "maximum": "v > {c}",
    "exclusiveMinimum": "v <= {c}",
    "exclusiveMaximum": "v >= {c}",
    "minLength": "len(v) < {c}",
    "maxLength": "len(v) > {c}",
    "minItems": "len(v) < {c}",
    "maxItems": "len(v) > {c}",
}
_NUMERIC = ("integer", "number")
_HASHABLE = ("string", "integer", "number", "boolean")


class _Constants:
    """The values the generated source reaches as ``C[i]``."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def ref(self, value: Any) -> str:
        self.values.append(value)
        return f"C[{len(self.values) - 1}]"


@dataclass(frozen=True)
class _FieldChecks:
    """One property's checks as expressions over ``v`` (the value, not null)."""

    name: str  # expression reaching the name, ``C[i]``
    null_rule: str | None  # the rule a null breaks (required, nullValues), None if allowed
    type_test: str | None
    type_rule: str
    rules: list[tuple[str, str]]  # (expression true when broken, rule name as C[i])
    parse: str | None = None  # an ISO parser (C[i]) a string value must pass


def _parses(parse: Callable[[str], Any] | None, value: str) -> bool:
    """Whether ``value`` passes ``parse`` (an ISO parser; None: nothing to parse)."""
    if parse is None:
        return True
    try:
        parse(value)
    except ValueError:
        return False
    return True


def _multiple_of(step: float) -> Callable[[float], bool]:
    def broken(value: float) -> bool:
        quotient = value / step
        return not math.isclose(quotient, round(quotient), rel_tol=0, abs_tol=1e-9)

    return broken


def _member_of(values: list[Any]) -> Callable[[Any], bool]:
    """True when the value is NOT one of ``values`` (unhashable values compared by ==)."""
    hashable = frozenset(v for v in values if not isinstance(v, dict | list))

    def broken(value: Any) -> bool:
        if isinstance(value, dict | list):
            return value not in values
        return value not in hashable

    return broken


def _field_checks(prop: Property, c: _Constants) -> _FieldChecks:
    name = c.ref(prop.name)
    null_rule = f"{prop.name}.required" if prop.required else None
    rules: list[tuple[str, str]] = []
    kind = prop.logicalType
    for option, value in prop.logicalTypeOptions.items():
        if option in _BOUNDS and (kind in _NUMERIC or not option.endswith("imum")):
            rules.append((_BOUNDS[option].format(c=c.ref(value)), c.ref(f"{prop.name}.{option}")))
        elif option == "pattern":
            search = c.ref(re.compile(value).search)
            rules.append((f"{search}(v) is None", c.ref(f"{prop.name}.pattern")))
        elif option == "multipleOf" and kind in _NUMERIC:
            rules.append((f"{c.ref(_multiple_of(value))}(v)", c.ref(f"{prop.name}.multipleOf")))
    for rule in prop.quality:
        if not rule.per_record:
            continue
        label = f"{prop.name}.{rule.metric}"
        if rule.metric == "nullValues":
            null_rule = null_rule or label
        elif rule.metric == "missingValues":
            missing = list(rule.arguments.get("missingValues", [None, ""]))
            if None in missing:
                null_rule = null_rule or label
            rules.append((f"{c.ref(_member_of(missing))}(v) is False", c.ref(label)))
        elif "validValues" in rule.arguments:
            valid = list(rule.arguments["validValues"])
            test = (
                f"v not in {c.ref(frozenset(valid))}"
                if kind in _HASHABLE
                else f"{c.ref(_member_of(valid))}(v)"
            )
            rules.append((test, c.ref(label)))
        elif "pattern" in rule.arguments:
            search = c.ref(re.compile(str(rule.arguments["pattern"])).search)
            rules.append((f"{search}(str(v)) is None", c.ref(label)))
    parser = _ISO_PARSERS.get(kind or "")
    return _FieldChecks(
        name,
        None if null_rule is None else c.ref(null_rule),
        None if kind is None else _TYPE_TESTS[kind],
        c.ref(f"{prop.name}.logicalType"),
        rules,
        None if parser is None else c.ref(parser),
    )


_BAD = "            bad.append(i); continue"


_LOCAL_BUILTINS = ("type", "dict", "str", "int", "float", "bool", "list", "len", "ValueError")


def _failing_source(fields: list[_FieldChecks], known: str) -> str:
    """The hot loop. Its constants and builtins are bound as default arguments, so each is a
    local variable inside (``_c3`` for ``C[3]``)."""
    lines = [
        "    bad = []",
        "    for i, m in enumerate(messages):",
        "        d = m.get('record')",
        f"        if type(d) is not dict or not {known}.issuperset(d):",
        "            bad.append(i)",
        "            continue",
    ]
    for f in fields:
        broken = [t for t in (f.type_test, *(test for test, _ in f.rules)) if t]
        lines.append(f"        v = d.get({f.name})")
        lines.append("        if v is None:")
        lines.append(
            "            pass" if f.null_rule is None else "            bad.append(i); continue"
        )
        if broken:
            lines.append(f"        elif {' or '.join(broken)}:")
            lines.append(_BAD)
        if f.parse:  # a string (tested above) that must parse as ISO date/time
            lines.append("        else:")
            lines.append("            try:")
            lines.append(f"                {f.parse}(v)")
            lines.append("            except ValueError:")
            lines.append("                bad.append(i); continue")
    lines.append("    return bad")
    body = "\n".join(lines)
    used = sorted({int(n) for n in re.findall(r"C\[(\d+)\]", body)})
    params = [f"_c{n}=C[{n}]" for n in used] + [f"{b}={b}" for b in _LOCAL_BUILTINS]
    head = f"def failing(messages, {', '.join(params)}):\n"
    return head + re.sub(r"C\[(\d+)\]", r"_c\1", body)


def _explain_source(fields: list[_FieldChecks], known: str) -> str:
    lines = [
        "def explain(d):",
        "    if type(d) is not dict:",
        "        return [V('type_mismatch', '', 'record is not an object')]",
        f"    out = [V('new_column', k, k + '.new_column') for k in d if k not in {known}]",
    ]
    for f in fields:
        lines.append(f"    v = d.get({f.name})")
        lines.append("    if v is None:")
        if f.null_rule is None:
            lines.append("        pass")
        else:
            lines.append(f"        out.append(V('rule_violation', {f.name}, {f.null_rule}))")
        if f.type_test:
            lines.append(f"    elif {f.type_test} or not P({f.parse}, v):")
            lines.append(f"        out.append(V('type_mismatch', {f.name}, {f.type_rule}))")
        if f.rules:
            lines.append("    else:")
            for test, rule in f.rules:
                lines.append(f"        if {test}:")
                lines.append(f"            out.append(V('rule_violation', {f.name}, {rule}))")
    lines.append("    return out")
    return "\n".join(lines)


@dataclass(frozen=True)
class StreamChecks:
    """The compiled checks of one stream (see the module's docstring)."""

    failing: Callable[[list[Any]], list[int]]
    explain: Callable[[Any], list[Violation]]
    known: frozenset[str]


def compile_checks(stream: SchemaObject) -> StreamChecks:
    """``stream``'s properties compiled into its two checking functions."""
    constants = _Constants()
    known_set = frozenset(p.name for p in stream.properties)
    known = constants.ref(known_set)
    fields = [_field_checks(prop, constants) for prop in stream.properties]
    namespace: dict[str, Any] = {"C": tuple(constants.values), "V": Violation, "P": _parses}
    source = _failing_source(fields, known) + "\n\n" + _explain_source(fields, known)
    exec(compile(source, f"<contract checks: {stream.name}>", "exec"), namespace)
    return StreamChecks(namespace["failing"], namespace["explain"], known_set)
