"""Which config values are secret, and how to keep them out of any text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_SECRET_KEY = re.compile(
    r"pass(word|wd|phrase)?|secret|token|api_?key|access_?key|private_?key|credential|auth"
    r"|dsn|(^|_)url$|connection_string",
    re.IGNORECASE,
)
_MIN_SECRET_LENGTH = 4
MASK = "***"


def secret_values(config: Any, under_secret_key: bool = False) -> set[str]:
    """Every string in ``config`` held by a key that names a secret (password, token, ...)."""
    if isinstance(config, dict):
        found: set[str] = set()
        for key, value in config.items():
            found |= secret_values(value, under_secret_key or bool(_SECRET_KEY.search(str(key))))
        return found
    if isinstance(config, list):
        return set().union(*(secret_values(v, under_secret_key) for v in config))
    return {config} if under_secret_key and isinstance(config, str) else set()


class Redactor:
    """Replaces known secret values with ``***`` in any text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        kept = sorted({s for s in secrets if len(s) >= _MIN_SECRET_LENGTH}, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, kept))) if kept else None

    def __call__(self, text: str) -> str:
        return self._pattern.sub(MASK, text) if self._pattern else text
