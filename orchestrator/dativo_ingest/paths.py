"""Where things are: the project root (the folder holding ``dativo.yaml``) and the folder
holding what ships with dativo (the built-in registry, first-party connectors, their kit).

A leaf module: config, registry, install and state all ask it, none of them asks another.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_FILE = "dativo.yaml"
_PACKAGE = Path(__file__).resolve().parent
_BUNDLED = _PACKAGE / "_shipped"  # inside a wheel: registry/, taps/, targets/, libs/


def find_project_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding ``dativo.yaml``, or None."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    return None


def shipped_root() -> Path:
    """The folder holding ``registry/connectors.yaml``, ``taps/``, ``targets/`` and ``libs/``:
    the package's ``_shipped`` copy in an installed wheel, else the source checkout."""
    return _BUNDLED if _BUNDLED.is_dir() else _PACKAGE.parents[1]
