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
    close = _closest(name, known)
    return f" (did you mean {close[0]!r}?)" if close else ""


def reason(error: Any, model: type | None = None) -> str:
    """The reason of one pydantic error; an unknown key gets a hint from ``model``: the
    closest key where it stands, else where a key of that name goes, else the closest key
    anywhere in ``model``."""
    kind = error["type"]
    # unexpected_keyword_argument: an unknown key of a dataclass held by a pydantic model
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        loc = error["loc"]
        return "unknown key" + (_hint(str(loc[-1]), loc[:-1], model) if model else "")
    if kind == "missing":
        return "required key is missing"
    return str(error["msg"])  # pydantic's message; the offending value is never included


def _hint(name: str, parent: tuple[int | str, ...], model: type) -> str:
    places: dict[str, set[str]] = {}
    for key, path in _key_places(model, "", set()):
        places.setdefault(key, set()).add(path)
    if name in places:
        return f" ({name!r} goes {_where(places[name])})"
    here = _model_at(model, parent)
    local = _closest(name, [key for key, _ in _fields(here)] if here is not None else [])
    anywhere = _closest(name, places)
    if local and (not anywhere or local[1] >= anywhere[1]):
        return f" (did you mean {local[0]!r}?)"
    if anywhere:
        return f" (did you mean {anywhere[0]!r}, {_where(places[anywhere[0]])}?)"
    return ""


def _closest(name: str, known: Iterable[str]) -> tuple[str, float] | None:
    """The known name most like ``name`` (as ``suggestion`` picks it) and its likeness."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return (close[0], difflib.SequenceMatcher(None, name, close[0]).ratio()) if close else None


def _where(paths: set[str]) -> str:
    return " or ".join(f"under {p!r}" if p else "at the top level" for p in sorted(paths))


def _model_at(model: type, loc: tuple[int | str, ...]) -> type | None:
    """The model holding the keys at ``loc`` (list indexes skipped), or None where ``loc``
    leaves the models' named fields (a mapping's own keys, a union member's label)."""
    for part in loc:
        if isinstance(part, int):
            continue
        annotation = dict(_fields(model)).get(part)
        inner = _models_in(annotation) if annotation is not None else []
        if not inner:
            return None
        model = inner[0]
    return model


def _key_places(model: type, path: str, seen: set[type]) -> Iterable[tuple[str, str]]:
    """(key, dotted path of the model holding it) for every key of ``model`` and below."""
    if model in seen:
        return
    seen.add(model)
    for key, annotation in _fields(model):
        yield key, path
        for inner in _models_in(annotation):
            yield from _key_places(inner, f"{path}.{key}".lstrip("."), seen)


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
