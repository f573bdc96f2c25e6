"""A project's ``.env`` file: ``KEY=value`` lines, as docker compose and Meltano read them."""

from __future__ import annotations

import re
from pathlib import Path

from dativo_ingest.exceptions import ConfigurationError

_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


def read_dotenv(file: Path) -> dict[str, str]:
    """The variables of ``file`` (none if it does not exist). Blank lines and ``#`` comments
    are skipped; a value may be quoted with ``'`` or ``"``; anything else is an error."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigurationError(f"cannot read {file}: {exc.strerror}") from None
    variables: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _LINE.match(stripped)
        if match is None:
            raise ConfigurationError(f"{file}: line {number}: expected KEY=value")
        name, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            value = value.split(" #", 1)[0].rstrip()
        variables[name] = value
    return variables
