"""``--test`` of a local destination folder: may this process create and write in it?"""

from __future__ import annotations

import os
from pathlib import Path

from dativo_connector_kit.errors import AuthenticationError, ConfigurationError


def writable_folder(folder: Path) -> str:
    """Check, writing nothing, that ``folder`` exists as a writable folder or can be created.

    Raise ``ConfigurationError`` when a file is in the way, ``AuthenticationError`` when this
    user lacks the rights; return what was checked."""
    existing = folder.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigurationError(f"destination {folder}: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise AuthenticationError(f"destination {folder}: {existing} is not writable by this user")
    if existing == folder.absolute():
        return f"folder {folder} is writable"
    return f"folder {folder} can be created in {existing}"
