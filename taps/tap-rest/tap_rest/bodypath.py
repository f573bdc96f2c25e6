"""Locations in a JSON body: a JSONPath (``$.data[*]``) or a dotted path (``data.items``)."""

from __future__ import annotations

import typing as t

from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from jsonpath_ng.ext import parse


class BodyPathError(ValueError):
    """An expression that is neither a valid JSONPath nor a dotted path."""


class BodyPath:
    """Where something is in a response body.

    An expression starting with ``$`` is a JSONPath; anything else is a dotted path of object
    keys (and list indexes), like ``data.items`` or ``meta.pages.0``.
    """

    def __init__(self, expression: str) -> None:
        """Compile ``expression``; ``BodyPathError`` says why it is unusable."""
        self.expression = expression
        self._keys: tuple[str, ...] = ()
        self._jsonpath = None
        self.is_jsonpath = expression.startswith("$")
        if self.is_jsonpath:
            try:
                self._jsonpath = parse(expression)
            except (JsonPathLexerError, JsonPathParserError, ValueError) as exc:
                raise BodyPathError(f"{expression!r} is not a valid JSONPath: {exc}") from exc
        else:
            self._keys = tuple(expression.split("."))
            if not all(self._keys):
                raise BodyPathError(f"{expression!r} has an empty key")

    def __repr__(self) -> str:
        """Show the expression."""
        return f"BodyPath({self.expression!r})"

    def find(self, body: t.Any) -> list[t.Any]:
        """Every value at this path in ``body``; an empty list if there is none."""
        if self._jsonpath is not None:
            return [match.value for match in self._jsonpath.find(body)]
        node = body
        for key in self._keys:
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                return []
        return [node]

    def first(self, body: t.Any) -> t.Any:
        """The first value at this path in ``body``, or ``None``."""
        found = self.find(body)
        return found[0] if found else None
