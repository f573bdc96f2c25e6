"""Turning validation errors into ``(key path, reason)`` pairs, with "did you mean" hints."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel


def key_path(loc: tuple[int | str, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def suggestion(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest known name, or an empty string."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def reason(error: Any, model: type[BaseModel] | None = None) -> str:
    """The reason of one pydantic error; an unknown key gets the closest key ``model`` (or
    any model nested in it) has."""
    kind = error["type"]
    if kind == "extra_forbidden":
        name = str(error["loc"][-1])
        return "unknown key" + (suggestion(name, model_keys(model)) if model else "")
    if kind == "missing":
        return "required key is missing"
    return str(error["msg"])  # pydantic's message; the offending value is never included


def model_keys(model: type[BaseModel], seen: set[type] | None = None) -> set[str]:
    """Every field name and alias of ``model`` and of the models its fields hold."""
    seen = seen if seen is not None else set()
    if model in seen:
        return set()
    seen.add(model)
    keys: set[str] = set()
    for name, info in model.model_fields.items():
        keys |= {name, info.alias} - {None}  # type: ignore[arg-type]
        for inner in _models_in(info.annotation):
            keys |= model_keys(inner, seen)
    return keys


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _models_in(arg)]
