"""``${VAR}`` substitution inside connector configs, as the shell and docker compose do it.

``${VAR}`` must be set; ``${VAR:-default}`` uses ``default`` when VAR is unset or empty;
``${VAR:?message}`` fails with ``message`` when it is; ``$$`` is a literal ``$``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_REFERENCE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:-|:\?)([^}]*))?\}")


class MissingVariablesError(Exception):
    """Raised with every ``(key path, reason)`` whose variable is not set."""

    def __init__(self, missing: list[tuple[str, str]]) -> None:
        self.missing = missing
        super().__init__(", ".join(reason for _, reason in missing))


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
        name, operator, word = match.groups()
        if name is None:
            return "$"
        value = environ.get(name)
        if operator is not None and not value:
            if operator == ":-":
                return word
            missing.append((path, f"{name}: {word or 'is not set'}"))
            return ""
        if value is None:
            missing.append((path, f"environment variable {name} is not set"))
            return ""
        substituted.add(value)
        return value

    return _REFERENCE.sub(replace, value)
