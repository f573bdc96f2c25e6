"""The shape of a stream as contracts see it: columns with a logical type (the ODCS
``logicalType``), a physical type, and whether they are required or part of the key.

Both sides of a comparison become a ``StreamShape``: a discovered JSON schema
(``shape_of_schema``) and a contract's schema object (``shape_of_contract``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dativo_ingest.contracts.model import AssetContract

_STRING_FORMATS = {"date-time": "timestamp", "date": "date", "time": "time"}
_JSON_TYPES = ("string", "number", "integer", "object", "array", "boolean")


@dataclass(frozen=True)
class Column:
    """One column. ``logical_type`` is None when values may be of several kinds (a
    ``jsonb`` column); ``physical_type`` is None when the source does not say."""

    logical_type: str | None
    physical_type: str | None = None
    required: bool = False
    primary_key: bool = False

    def describe(self) -> str:
        """``integer (bigint)``, ``string``, ``any (jsonb)``."""
        logical = self.logical_type or "any"
        return f"{logical} ({self.physical_type})" if self.physical_type else logical


@dataclass(frozen=True)
class StreamShape:
    """A stream's columns, in their order."""

    name: str
    columns: Mapping[str, Column]


def shape_of_schema(name: str, schema: Mapping[str, Any], keys: Sequence[str]) -> StreamShape:
    """The shape a JSON schema describes: types from ``type``/``anyOf``/``oneOf`` and
    ``format``; the physical type from ``x-sql-datatype`` (or ``numeric`` for a fractional
    ``multipleOf``); required when listed in ``required`` or not nullable."""
    listed = set(schema.get("required") or [])
    columns = {
        column: column_of_property(prop, column in listed, column in keys)
        for column, prop in (schema.get("properties") or {}).items()
    }
    return StreamShape(name, columns)


def shape_of_contract(name: str, contract: AssetContract) -> StreamShape:
    """The shape ``contract`` gives stream ``name`` (no columns when it lists no such
    stream)."""
    found = contract.stream(name)
    properties = found.properties if found is not None else []
    columns = {
        p.name: Column(p.logicalType, p.physicalType, p.required, p.primaryKey) for p in properties
    }
    return StreamShape(name, columns)


def column_of_property(prop: Any, listed_required: bool, key: bool) -> Column:
    """The column a JSON schema property describes."""
    kinds, formats, nullable = _kinds(prop)
    return Column(
        _logical(kinds, formats),
        _physical(prop),
        listed_required or (bool(kinds) and not nullable),
        key,
    )


def _kinds(prop: Any) -> tuple[set[str], set[str], bool]:
    """The JSON types a property allows (null aside), their formats, and whether null is one."""
    if not isinstance(prop, dict):
        return set(), set(), True
    branches = prop.get("anyOf") or prop.get("oneOf")
    if isinstance(branches, list):
        kinds: set[str] = set()
        formats: set[str] = set()
        nullable = False
        for branch in branches:
            more, formatted, null = _kinds(branch)
            kinds |= more
            formats |= formatted
            nullable = nullable or null
        return kinds, formats, nullable
    declared = prop.get("type")
    names = [declared] if isinstance(declared, str) else declared
    if not isinstance(names, list):
        return set(), set(), True
    fmt = prop.get("format")
    return (
        {n for n in names if n in _JSON_TYPES},
        {fmt} if isinstance(fmt, str) else set(),
        "null" in names,
    )


def _logical(kinds: set[str], formats: set[str]) -> str | None:
    if kinds == {"integer", "number"}:
        return "number"
    if len(kinds) != 1:
        return None
    (kind,) = kinds
    if kind == "string" and len(formats) == 1:
        return _STRING_FORMATS.get(next(iter(formats)), "string")
    return kind


def _physical(prop: Any) -> str | None:
    if not isinstance(prop, dict):
        return None
    declared = prop.get("x-sql-datatype")
    if isinstance(declared, str):
        return declared
    multiple = prop.get("multipleOf")
    if isinstance(multiple, int | float) and multiple != int(multiple):
        return "numeric"
    return None
