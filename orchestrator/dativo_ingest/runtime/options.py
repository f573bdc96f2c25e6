"""How and where a connector runs: as a local process, or in a Docker container with limits."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator


class Mount(BaseModel):
    """A host folder a containerised connector reads or writes, mounted at the same path."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    writable: bool = False

    @field_validator("path")
    @classmethod
    def _absolute(cls, path: str) -> str:
        if not path.startswith("/"):
            raise ValueError("must be an absolute path")
        return path


class RuntimeOptions(BaseModel):
    """``runtime:`` of a job, of one side, or a registry entry's defaults. Unset fields fall
    back to the next level (side -> job -> registry entry -> built-in default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

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
        merged = {**base.model_dump(exclude_none=True), **self.model_dump(exclude_none=True)}
        return RuntimeOptions.model_validate(merged)


def effective_runtime(*levels: RuntimeOptions | None) -> RuntimeOptions:
    """Merge option levels, most specific first (side, job, registry entry)."""
    merged = RuntimeOptions()
    for level in reversed(levels):
        if level is not None:
            merged = level.over(merged)
    return merged
