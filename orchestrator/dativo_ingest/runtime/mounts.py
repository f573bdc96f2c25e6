"""Mounts checked against a container's user before anything starts: a folder it cannot
read (or write, when ``writable``) is a configuration error naming the folder, the uid and
the fix, instead of a connector's ``PermissionError`` halfway through a run."""

from __future__ import annotations

import stat
from collections.abc import Sequence
from pathlib import Path

from dativo_ingest.exceptions import ConfigurationError
from dativo_ingest.runtime.options import Mount


def check_mounts(connector: str, mounts: Sequence[Mount], uid: int, gid: int) -> None:
    """Every mount exists and the container's user can read it (and write it when
    ``writable``); else a ConfigurationError naming each folder, the uid and the fix."""
    problems = []
    for mount in mounts:
        problem = mount_problem(Path(mount.path), mount.writable, uid, gid)
        if problem:
            problems.append(problem)
    if problems:
        raise ConfigurationError(
            f"runtime.mounts of {connector}: the container runs as uid {uid} (gid {gid});\n  "
            + "\n  ".join(problems)
        )


def mount_problem(path: Path, writable: bool, uid: int, gid: int) -> str | None:
    """Why user ``uid:gid`` (no other groups) cannot use ``path`` as mounted, or None."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return f"{path} does not exist: create it, or fix the path"
    except OSError as exc:
        return f"{path} cannot be checked: {exc.strerror}"
    folder = stat.S_ISDIR(info.st_mode)
    needed = {"read": stat.S_IROTH | (stat.S_IXOTH if folder else 0)}
    if writable:
        needed["write"] = stat.S_IWOTH | (stat.S_IXOTH if folder else 0)
    shift = 6 if info.st_uid == uid else 3 if info.st_gid == gid else 0
    denied = [what for what, bits in needed.items() if (info.st_mode >> shift) & bits != bits]
    if not denied:
        return None
    kind = "folder" if folder else "file"
    bits = "r" + ("w" if writable else "") + ("x" if folder else "")
    return (
        f"it cannot {' or '.join(denied)} the {kind} {path} (owner uid {info.st_uid}, gid "
        f"{info.st_gid}, mode {stat.filemode(info.st_mode)}); fix: "
        f"`chown {'-R ' if folder else ''}{uid}:{gid} {path}`, or `chmod o+{bits} {path}`"
        + ("" if not writable else ", or drop `writable: true` if the connector only reads it")
    )
