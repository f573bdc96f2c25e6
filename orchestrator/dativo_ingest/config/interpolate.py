"""``${VAR}`` substitution from the environment inside connector configs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_REFERENCE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class MissingVariablesError(Exception):
    """Raised with every ``(key path, variable)`` whose variable is not set."""

    def __init__(self, missing: list[tuple[str, str]]) -> None:
        self.missing = missing
        super().__init__(", ".join(name for _, name in missing))


def interpolate(value: Any, environ: Mapping[str, str], path: str, substituted: set[str]) -> Any:
    """Return ``value`` with ``${VAR}`` replaced in every string (``$$`` is a literal ``$``).

    Values taken from the environment are added to ``substituted`` so they can be redacted.
    """
    missing: list[tuple[str, str]] = []
    result = _walk(value, environ, path, substituted, missing)
    if missing:
        raise MissingVariablesError(missing)
    return result


def _walk(
    value: Any,
    environ: Mapping[str, str],
    path: str,
    substituted: set[str],
    missing: list[tuple[str, str]],
) -> Any:
    if isinstance(value, dict):
        return {k: _walk(v, environ, f"{path}.{k}", substituted, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [
            _walk(v, environ, f"{path}[{i}]", substituted, missing) for i, v in enumerate(value)
        ]
    if not isinstance(value, str) or "$" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "$"
        if name not in environ:
            missing.append((path, name))
            return ""
        substituted.add(environ[name])
        return environ[name]

    return _REFERENCE.sub(replace, value)
