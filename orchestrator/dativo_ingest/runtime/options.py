"""How and where a connector runs: as a local process, or in a Docker container with limits."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Annotated, Literal

from dativo_ingest.schema import STRICT, Check


def _absolute(path: str) -> None:
    if not path.startswith("/"):
        raise ValueError("must be an absolute path")


@dataclass(frozen=True)
class Mount:
    """A host folder a containerised connector reads or writes, mounted at the same path."""

    __pydantic_config__ = STRICT  # a registry entry's runtime (pydantic) holds mounts too

    path: Annotated[str, Check(_absolute)]
    writable: bool = False

    def __post_init__(self) -> None:
        _absolute(self.path)


@dataclass(frozen=True)
class RuntimeOptions:
    """``runtime:`` of a job, of one side, or a registry entry's defaults. Unset fields fall
    back to the next level (side -> job -> registry entry -> built-in default)."""

    __pydantic_config__ = STRICT

    mode: Literal["subprocess", "docker"] | None = None
    memory: str | None = None  # Docker syntax: 512m, 2g
    cpus: float | None = None
    network: Literal["bridge", "none", "host"] | None = None
    mounts: list[Mount] | None = None
    image: str | None = None  # override the image dativo would use

    def over(self, base: RuntimeOptions | None) -> RuntimeOptions:
        """These options, with unset fields taken from ``base``."""
        if base is None:
            return self
        given = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return dataclasses.replace(base, **{k: v for k, v in given.items() if v is not None})


def effective_runtime(*levels: RuntimeOptions | None) -> RuntimeOptions:
    """Merge option levels, most specific first (side, job, registry entry)."""
    merged = RuntimeOptions()
    for level in reversed(levels):
        if level is not None:
            merged = level.over(merged)
    return merged
