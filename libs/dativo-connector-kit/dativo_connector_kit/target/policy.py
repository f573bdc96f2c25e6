"""When a lean target commits: one batch policy, one meaning, one default for every target.

A batch is the records received since the last commit. It is committed as soon as it holds
``batch_size_rows`` records; once it holds ``batch_size_bytes`` bytes of input lines or its
oldest record is ``max_batch_age_seconds`` old (both checked at every 1,000th record of the
batch; the age also at every STATE); also before a failure on bad input and at the end of
input. A STATE is echoed after the commit
that covers every record before it; a STATE with no record pending is echoed at once.
"""

from __future__ import annotations

import typing as t

AGE_CHECK_EVERY = 1000  # records between two checks of the batch's age

SETTINGS: dict[str, dict[str, t.Any]] = {
    "batch_size_rows": {
        "type": "integer",
        "minimum": 1,
        "default": 100_000,
        "description": "Commit (and echo the latest STATE) once this many records arrived "
        "since the last commit, over all streams.",
    },
    "batch_size_bytes": {
        "type": "integer",
        "minimum": 1,
        "default": 64_000_000,
        "description": "Commit once the records received since the last commit took this "
        "many bytes of input (their JSON lines; checked every 1,000 records). Bounds the "
        "memory of a batch.",
    },
    "max_batch_age_seconds": {
        "type": "number",
        "minimum": 0,
        "default": 30,
        "description": "Commit once the oldest record not yet committed is this many seconds "
        "old (checked at every STATE and every 1,000 records). `0` commits at every STATE.",
    },
}


class BatchPolicy(t.NamedTuple):
    """The limits of a batch (see the module docstring); a named tuple, quick to define at
    start-up."""

    max_records: int = SETTINGS["batch_size_rows"]["default"]
    max_bytes: int = SETTINGS["batch_size_bytes"]["default"]
    max_age_seconds: float = SETTINGS["max_batch_age_seconds"]["default"]

    @classmethod
    def from_settings(cls, values: dict[str, t.Any]) -> BatchPolicy:
        """The policy of validated settings holding the keys of ``SETTINGS``."""
        return cls(
            max_records=values["batch_size_rows"],
            max_bytes=values["batch_size_bytes"],
            max_age_seconds=float(values["max_batch_age_seconds"]),
        )


def settings_schema(
    properties: dict[str, dict[str, t.Any]], required: tuple[str, ...] = ()
) -> dict[str, t.Any]:
    """A target's settings schema: its own ``properties``, then the batch policy's."""
    return {
        "type": "object",
        "properties": {**properties, **SETTINGS},
        "required": list(required),
        "additionalProperties": False,
    }
