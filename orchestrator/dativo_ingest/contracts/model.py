"""Data contracts: the ODCS v3.1 subset Dativo reads, plus its enforcement section.

A contract file is one YAML document (``apiVersion: v3.1.0``, ``kind: DataContract``) whose
``schema`` lists the objects (streams) it covers, each with its ``properties``. Keys Dativo
does not know are errors (a typo must not switch a rule off); ODCS keys that only describe
(``description``, ``tags``, ...) are accepted and ignored.

Enforcement is the custom property ``dativo.enforcement`` (``customProperties`` of the
contract, overridden field by field by that of a schema object): one mode per kind of drift.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dativo_ingest.problems import key_path, reason

LogicalType = Literal[
    "string", "date", "timestamp", "time", "number", "integer", "object", "array", "boolean"
]
Mode = Literal["evolve", "freeze", "discard_row", "discard_value"]
ENFORCEMENT_PROPERTY = "dativo.enforcement"
API_VERSIONS = ("v3.1.0", "v3.0.2", "v3.0.1", "v3.0.0")

# logicalTypeOptions each logical type takes (ODCS v3.1 JSON schema)
_RANGE = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "format"}
TYPE_OPTIONS: dict[str, set[str]] = {
    "string": {"minLength", "maxLength", "pattern", "format"},
    "integer": _RANGE | {"multipleOf"},
    "number": _RANGE | {"multipleOf"},
    "date": _RANGE,
    "timestamp": _RANGE | {"timezone", "defaultTimezone"},
    "time": _RANGE | {"timezone", "defaultTimezone"},
    "object": {"maxProperties", "minProperties", "required"},
    "array": {"maxItems", "minItems", "uniqueItems"},
    "boolean": set(),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Enforcement(_Strict):
    """What to do on each kind of drift; None inherits (schema object -> contract -> default).

    - ``new_streams``: a stream the contract does not list (not ``discard_value``);
    - ``new_columns``: a record field the stream's properties do not list;
    - ``type_mismatch``: a value not of the property's ``logicalType``;
    - ``rule_violation``: a value breaking ``required``, ``logicalTypeOptions`` or a
      ``quality`` rule.
    """

    new_streams: Mode | None = None
    new_columns: Mode | None = None
    type_mismatch: Mode | None = None
    rule_violation: Mode | None = None

    @model_validator(mode="after")
    def _streams_are_whole(self) -> Enforcement:
        if self.new_streams == "discard_value":
            raise ValueError("new_streams: discard_value applies to values, not to a stream")
        return self

    def over(self, base: Enforcement) -> Enforcement:
        """These modes, each unset one taken from ``base``."""
        given = self.model_dump(exclude_none=True)
        return base.model_copy(update=given)


# Without a dativo.enforcement section: new streams and new columns evolve (what a run without
# a contract does today), while a value the contract refuses (its type, or a rule) stops the
# run (freeze): no data is dropped or changed unless the contract asks for it.
DEFAULT_ENFORCEMENT = Enforcement(
    new_streams="evolve", new_columns="evolve", type_mismatch="freeze", rule_violation="freeze"
)


class CustomProperty(_Strict):
    """An ODCS custom property; ``dativo.enforcement`` holds an ``Enforcement``."""

    property: str
    value: Any = None
    description: str | None = None

    @model_validator(mode="after")
    def _enforcement_is_valid(self) -> CustomProperty:
        if self.property == ENFORCEMENT_PROPERTY:
            try:
                Enforcement.model_validate(self.value)
            except ValidationError as exc:
                raise ValueError("; ".join(_inner(err) for err in exc.errors())) from None
        return self


class QualityRule(_Strict):
    """An ODCS data quality rule. The relay enforces ``library`` rules whose metric is
    ``nullValues``, ``missingValues`` or ``invalidValues`` (``arguments.validValues`` or
    ``arguments.pattern``) with ``mustBe: 0``, record by record; others are kept, not run."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    type: Literal["library", "text", "sql", "custom"] = "library"
    metric: Literal["nullValues", "missingValues", "invalidValues", "duplicateValues", "rowCount"]
    metric_rule: str | None = Field(None, alias="rule")
    arguments: dict[str, Any] = {}
    name: str | None = None
    description: str | None = None
    dimension: str | None = None
    severity: str | None = None
    unit: str | None = None
    query: str | None = None
    engine: str | None = None
    implementation: Any = None
    mustBe: Any = None  # noqa: N815 (ODCS names)
    mustNotBe: Any = None  # noqa: N815
    mustBeGreaterThan: float | None = None  # noqa: N815
    mustBeGreaterOrEqualTo: float | None = None  # noqa: N815
    mustBeLessThan: float | None = None  # noqa: N815
    mustBeLessOrEqualTo: float | None = None  # noqa: N815
    mustBeBetween: list[float] | None = None  # noqa: N815
    mustNotBeBetween: list[float] | None = None  # noqa: N815

    @property
    def per_record(self) -> bool:
        """Whether the relay checks it on each record (else it is only kept)."""
        return (
            self.type == "library"
            and self.metric in ("nullValues", "missingValues", "invalidValues")
            and self.mustBe == 0
        )


class _Element(_Strict):
    """What a schema object and a property share."""

    name: str = Field(min_length=1)
    physicalName: str | None = None  # noqa: N815
    physicalType: str | None = None  # noqa: N815
    quality: list[QualityRule] = []
    customProperties: list[CustomProperty] = []  # noqa: N815
    description: str | None = None
    businessName: str | None = None  # noqa: N815
    tags: list[str] = []
    authoritativeDefinitions: list[dict[str, Any]] = []  # noqa: N815
    id: str | None = None


class Property(_Element):
    """A property (column) of a schema object."""

    logicalType: LogicalType | None = None  # noqa: N815
    logicalTypeOptions: dict[str, Any] = {}  # noqa: N815
    required: bool = False
    primaryKey: bool = False  # noqa: N815
    primaryKeyPosition: int = -1  # noqa: N815
    unique: bool = False
    classification: str | None = None
    criticalDataElement: bool = False  # noqa: N815
    examples: list[Any] = []
    properties: list[Property] = []  # an object's fields (informative: not enforced)
    items: Property | None = None  # an array's items (informative: not enforced)

    @model_validator(mode="after")
    def _options_fit_the_type(self) -> Property:
        if self.logicalTypeOptions and self.logicalType is None:
            raise ValueError("logicalTypeOptions needs a logicalType")
        if self.logicalType is not None:
            allowed = TYPE_OPTIONS[self.logicalType]
            unknown = sorted(set(self.logicalTypeOptions) - allowed)
            if unknown:
                raise ValueError(
                    f"logicalTypeOptions: {', '.join(unknown)} not valid for "
                    f"{self.logicalType} (valid: {', '.join(sorted(allowed)) or 'none'})"
                )
        return self


class SchemaObject(_Element):
    """One object of the contract: a stream, named as the source names it."""

    logicalType: Literal["object"] = "object"  # noqa: N815
    properties: list[Property] = []
    dataGranularityDescription: str | None = None  # noqa: N815

    @model_validator(mode="after")
    def _names_are_unique(self) -> SchemaObject:
        names = [p.name for p in self.properties]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"properties named more than once: {', '.join(twice)}")
        return self

    @property
    def enforcement(self) -> Enforcement:
        """This object's own enforcement section (modes it leaves unset are None)."""
        return enforcement_of(self.customProperties)


class AssetContract(_Strict):
    """A contract file: which streams it covers and how each is enforced."""

    apiVersion: Literal[API_VERSIONS] = "v3.1.0"  # type: ignore[valid-type]  # noqa: N815
    kind: Literal["DataContract"] = "DataContract"
    id: str = Field(min_length=1)
    version: str = Field(min_length=1)
    status: str = "active"
    name: str | None = None
    tenant: str | None = None
    domain: str | None = None
    dataProduct: str | None = None  # noqa: N815
    description: dict[str, Any] | None = None
    tags: list[str] = []
    schema_: list[SchemaObject] = Field(default=[], alias="schema")
    customProperties: list[CustomProperty] = []  # noqa: N815
    authoritativeDefinitions: list[dict[str, Any]] = []  # noqa: N815
    contractCreatedTs: str | None = None  # noqa: N815

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _streams_are_unique(self) -> AssetContract:
        names = [s.name for s in self.schema_]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"schema objects named more than once: {', '.join(twice)}")
        return self

    @property
    def label(self) -> str:
        """``id@version``, as run records and quarantine files name it."""
        return f"{self.id}@{self.version}"

    @property
    def enforcement(self) -> Enforcement:
        """The contract-wide modes, defaults filled in."""
        return enforcement_of(self.customProperties).over(DEFAULT_ENFORCEMENT)

    def stream(self, name: str) -> SchemaObject | None:
        """The schema object of stream ``name``, if the contract covers it."""
        return next((s for s in self.schema_ if s.name == name), None)

    def stream_enforcement(self, stream: SchemaObject) -> Enforcement:
        """``stream``'s modes: its own, then the contract's, then the defaults."""
        return stream.enforcement.over(self.enforcement)


def enforcement_of(custom: list[CustomProperty]) -> Enforcement:
    for item in custom:
        if item.property == ENFORCEMENT_PROPERTY:
            return Enforcement.model_validate(item.value)
    return Enforcement()


class ContractFileError(ValueError):
    """A contract file is invalid: ``problems`` are (key path, reason) pairs."""

    def __init__(self, path: Path, problems: list[tuple[str, str]]) -> None:
        self.path = path
        self.problems = problems
        lines = [f"{path}: {at}: {why}" if at else f"{path}: {why}" for at, why in problems]
        super().__init__("invalid contract\n  " + "\n  ".join(lines))


def load_contract(path: str | Path) -> AssetContract:
    """The contract in ``path``; ``ContractFileError`` naming the file, each key path and
    reason (the line and column for YAML syntax errors)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContractFileError(file, [("", f"cannot read the file: {exc.strerror}")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        why = getattr(exc, "problem", None) or str(exc)
        raise ContractFileError(file, [(where, f"invalid YAML: {why}")]) from None
    if not isinstance(data, dict):
        raise ContractFileError(file, [("", "the top level must be a mapping of keys")])
    try:
        return AssetContract.model_validate(data)
    except ValidationError as exc:
        raise ContractFileError(file, [_problem(err) for err in exc.errors()]) from None


def _inner(error: Any) -> str:
    """An enforcement section's error, its path under ``value``."""
    where = key_path(("value", *error["loc"]))
    return f"{where}: {reason(error, Enforcement).removeprefix('Value error, ')}"


def _problem(error: Any) -> tuple[str, str]:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    return key_path(loc), reason(error, AssetContract).removeprefix("Value error, ")
