"""A JSON schema inferred from sample records.

Every property is nullable (a record may lack it). Integers and numbers together make a
number; strings that are all ISO 8601 date-times get ``"format": "date-time"``; objects and
arrays are inferred recursively; a property seen only as null, or a key field never seen, is a
nullable string.
"""

from __future__ import annotations

import re
import typing as t
from decimal import Decimal

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE
)


class _Shape:
    """What has been seen at one place of the sampled records."""

    def __init__(self) -> None:
        self.types: set[str] = set()
        self.all_date_times = True
        self.properties: dict[str, _Shape] = {}
        self.items: _Shape | None = None

    def add(self, value: t.Any) -> None:
        if value is None:
            self.types.add("null")
        elif isinstance(value, bool):
            self.types.add("boolean")
        elif isinstance(value, int):
            self.types.add("integer")
        elif isinstance(value, (float, Decimal)):
            self.types.add("number")
        elif isinstance(value, str):
            self.types.add("string")
            self.all_date_times = self.all_date_times and bool(DATE_TIME.match(value))
        elif isinstance(value, dict):
            self.types.add("object")
            for key, item in value.items():
                self.properties.setdefault(key, _Shape()).add(item)
        elif isinstance(value, list):
            self.types.add("array")
            self.items = self.items or _Shape()
            for item in value:
                self.items.add(item)

    def schema(self) -> dict[str, t.Any]:
        types = self.types - {"null"} or {"string"}
        if {"integer", "number"} <= types:
            types.discard("integer")
        schema: dict[str, t.Any] = {"type": [*sorted(types), "null"]}
        if types == {"string"} and "string" in self.types and self.all_date_times:
            schema["format"] = "date-time"
        if "object" in types:
            schema["properties"] = {key: shape.schema() for key, shape in self.properties.items()}
        if "array" in types:
            schema["items"] = self.items.schema() if self.items and self.items.types else {}
        return schema


def infer_schema(records: Iterable[dict[str, t.Any]], keys: Sequence[str] = ()) -> dict[str, t.Any]:
    """The JSON schema of a stream whose first records are ``records``, declaring its ``keys``
    (primary and replication keys) even if the records lack them."""
    shape = _Shape()
    shape.types.add("object")
    for record in records:
        shape.add(record)
    properties = shape.schema()["properties"]
    for key in keys:
        properties.setdefault(key, {"type": ["string", "null"]})
    return {"type": "object", "properties": properties}
