"""Turning validation errors into ``(key path, reason)`` pairs, with "did you mean" hints.

The errors are pydantic's, or ``schema``'s in the same shape; the models are pydantic models
or the dataclasses ``schema`` validates (pydantic is not imported for the latter)."""

from __future__ import annotations

import dataclasses
import difflib
import typing
from collections.abc import Iterable
from typing import Any

from dativo_ingest.schema import field_keys


def key_path(loc: tuple[int | str, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def suggestion(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest known name, or an empty string."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def reason(error: Any, model: type | None = None) -> str:
    """The reason of one pydantic error; an unknown key gets the closest key ``model`` (or
    any model nested in it) has."""
    kind = error["type"]
    # unexpected_keyword_argument: an unknown key of a dataclass held by a pydantic model
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        name = str(error["loc"][-1])
        return "unknown key" + (suggestion(name, model_keys(model)) if model else "")
    if kind == "missing":
        return "required key is missing"
    return str(error["msg"])  # pydantic's message; the offending value is never included


def model_keys(model: type, seen: set[type] | None = None) -> set[str]:
    """Every field name and alias of ``model`` and of the models its fields hold."""
    seen = seen if seen is not None else set()
    if model in seen:
        return set()
    seen.add(model)
    keys: set[str] = set()
    for key, annotation in _fields(model):
        keys.add(key)
        for inner in _models_in(annotation):
            keys |= model_keys(inner, seen)
    return keys


def _fields(model: type) -> list[tuple[str, Any]]:
    """(key, annotation) of each key ``model`` accepts."""
    if dataclasses.is_dataclass(model):
        hints = typing.get_type_hints(model, include_extras=True)
        return [(key, hints[name]) for key, name in field_keys(model).items()]
    fields = model.model_fields.items()  # type: ignore[attr-defined]  # a pydantic model
    named = [(name, info.annotation) for name, info in fields]
    return named + [(info.alias, info.annotation) for _, info in fields if info.alias]


def _models_in(annotation: Any) -> list[type]:
    if isinstance(annotation, type) and (
        dataclasses.is_dataclass(annotation) or hasattr(annotation, "model_fields")
    ):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _models_in(arg)]
