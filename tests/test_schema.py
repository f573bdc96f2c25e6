"""`schema.validate`: dataclasses built from plain data, every problem in pydantic's words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import pytest

from dativo_ingest.schema import (
    Before,
    Bound,
    Check,
    MinLen,
    Pattern,
    SchemaError,
    alias,
    dump,
    validate,
)


def _positive_even(value: int) -> None:
    if value % 2:
        raise ValueError("must be even")


@dataclass(frozen=True)
class Inner:
    mode: Literal["a", "b", "c"] = "a"
    dashed: str | None = field(default=None, metadata=alias("dashed-key"))


@dataclass(frozen=True)
class Outer:
    name: Annotated[str, MinLen(1), Pattern(r"^[a-z]+$")]
    count: Annotated[int, Bound("ge", 1), Bound("le", 10), Check(_positive_even)] = 2
    ratio: Annotated[float, Before(lambda v: v.rstrip("%") if isinstance(v, str) else v)] = 1.0
    flag: bool = False
    inner: Inner | None = None
    items: list[Inner] = field(default_factory=list)
    tags: dict[Annotated[str, MinLen(1)], Any] = field(default_factory=dict)
    either: dict[str, str] | Annotated[str, MinLen(1)] | None = None

    def __post_init__(self) -> None:
        if self.flag and self.inner is None:
            raise ValueError("`flag` needs `inner`")


def _problems(data: Any) -> list[tuple[tuple[Any, ...], str, str]]:
    with pytest.raises(SchemaError) as caught:
        validate(Outer, data)
    return [(e["loc"], e["type"], e["msg"]) for e in caught.value.errors()]


def test_values_are_coerced_as_pydantic_lax_mode_does() -> None:
    got = validate(
        Outer,
        {"name": "ab", "count": "4", "ratio": "2.5%", "flag": "yes", "inner": {"dashed-key": "x"}},
    )
    assert got == Outer("ab", 4, 2.5, True, Inner(dashed="x"))
    assert validate(Outer, {"name": "ab", "count": 6.0, "ratio": 3}).count == 6
    assert validate(Outer, {"name": "ab", "inner": {"dashed": "y"}}).inner == Inner(dashed="y")
    assert validate(Outer, {"name": "ab", "either": "s"}).either == "s"


def test_every_problem_is_listed_with_its_place_and_pydantics_words() -> None:
    data = {
        "count": 3,
        "ratio": "x",
        "flag": "maybe",
        "inner": {"mode": "z", "extra": 1},
        "items": [{}, 5],
        "tags": {"": 1},
        "either": 5,
        "unknown": True,
    }
    assert _problems(data) == [
        (("name",), "missing", "Field required"),
        (("count",), "value_error", "Value error, must be even"),
        (
            ("ratio",),
            "float_parsing",
            "Input should be a valid number, unable to parse string as a number",
        ),
        (("flag",), "bool_parsing", "Input should be a valid boolean, unable to interpret input"),
        (("inner", "mode"), "literal_error", "Input should be 'a', 'b' or 'c'"),
        (("inner", "extra"), "extra_forbidden", "Extra inputs are not permitted"),
        (
            ("items", 1),
            "model_type",
            "Input should be a valid dictionary or instance of Inner",
        ),
        (("tags", "", "[key]"), "string_too_short", "String should have at least 1 character"),
        (("either", "dict[str,str]"), "dict_type", "Input should be a valid dictionary"),
        (("either", "constrained-str"), "string_type", "Input should be a valid string"),
        (("unknown",), "extra_forbidden", "Extra inputs are not permitted"),
    ]


def test_constraints_and_checks_across_fields() -> None:
    assert _problems({"name": "A1"}) == [
        (("name",), "string_pattern_mismatch", "String should match pattern '^[a-z]+$'")
    ]
    assert _problems({"name": "ab", "count": 12}) == [
        (("count",), "less_than_equal", "Input should be less than or equal to 10")
    ]
    assert _problems({"name": "ab", "count": 2.5}) == [
        (
            ("count",),
            "int_from_float",
            "Input should be a valid integer, got a number with a fractional part",
        )
    ]
    assert _problems({"name": "ab", "flag": True}) == [
        ((), "value_error", "Value error, `flag` needs `inner`")
    ]
    assert _problems([]) == [
        ((), "model_type", "Input should be a valid dictionary or instance of Outer")
    ]


def test_dump_gives_plain_data_by_field_name_or_alias() -> None:
    value = Outer("ab", inner=Inner(dashed="x"), items=[Inner("b")])
    assert dump(value)["inner"] == {"mode": "a", "dashed": "x"}
    assert dump(value, by_alias=True, exclude_none=True)["items"] == [{"mode": "b"}]
