"""What a run has already committed to a table, read from the snapshot summaries.

Every snapshot the target commits carries, in its summary:

| property | value |
| --- | --- |
| `dativo.run_id` | the run's identity (setting `run_id`) |
| `dativo.batch` | the flush's sequence number for this table within the run: 1, 2, ... |
| `dativo.records` | records of the stream the run had received when the flush was taken |

A replay of the same input under the same run_id finds the run's last committed position
here and skips that many records of the stream: each record lands exactly once per table,
wherever the batches of the replay fall.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

if t.TYPE_CHECKING:
    from pyiceberg.table import Table

RUN_ID = "dativo.run_id"
BATCH = "dativo.batch"
RECORDS = "dativo.records"


@dataclass
class Progress:
    """A stream's position in the run: records received, and those already in the table."""

    committed: int = 0  # records of the stream this run committed (by any earlier attempt)
    batches: int = 0  # flushes of this run committed to the table
    received: int = 0  # records of the stream read in this process

    @classmethod
    def of(cls, table: Table, run_id: str) -> Progress:
        """The run's committed position in ``table`` (zero when the run never wrote it)."""
        committed = batches = 0
        for snapshot in table.snapshots():
            summary = snapshot.summary
            if summary is None or summary[RUN_ID] != run_id:
                continue
            committed = max(committed, int(summary[RECORDS] or 0))
            batches = max(batches, int(summary[BATCH] or 0))
        return cls(committed, batches)

    def marks(self, run_id: str) -> dict[str, str]:
        """The summary properties of the next flush (which covers every record received)."""
        return {RUN_ID: run_id, BATCH: str(self.batches + 1), RECORDS: str(self.received)}

    def committed_through(self) -> None:
        """Record that the flush of every received record is committed."""
        self.batches += 1
        self.committed = self.received
