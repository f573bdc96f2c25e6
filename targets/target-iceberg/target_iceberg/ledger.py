"""What a load has already committed to a table, read from the snapshot summaries.

Every snapshot the target commits carries, in its summary:

| property | value |
| --- | --- |
| `dativo.load` | the load's lineage: `$DATIVO_STATE_ID` (the job's state id), else the run id |
| `dativo.run_id` | the process's run (setting `run_id`, `$DATIVO_RUN_ID` under dativo) |
| `dativo.batch` | the flush's sequence number for this table within the run: 1, 2, ... |
| `dativo.records` | records of the stream the run had received when the flush was taken |
| `dativo.points` | JSON `{point: records of the stream received before it}` (see below) |

`dativo.points` holds the run's points since its previous flush of the table. A *point* is a
place in the input a later run can resume from: the run's resume point
(`$DATIVO_RESUME_POINT`: `start`, or `state:<sha256>` of the stored state the source resumes
from) and every STATE the target echoes (`state:<sha256>` of its value, see ``point_of``). A
run resuming from point P skips, per stream, the records the load already committed after P:
for each earlier run whose marks name P, its last `dativo.records` minus its count at P; the
largest of these. While it skips, it re-echoes only STATEs an earlier run marked (the
orchestrator catches up to them) and holds back the others, whose place no mark records.
"""

from __future__ import annotations

import hashlib
import typing as t
from dataclasses import dataclass, field

import orjson

if t.TYPE_CHECKING:
    from pyiceberg.table import Table

LOAD = "dativo.load"
RUN_ID = "dativo.run_id"
BATCH = "dativo.batch"
RECORDS = "dativo.records"
POINTS = "dativo.points"
START = "start"


def point_of(state: object) -> str:
    """The point of a STATE value: ``state:`` and the SHA-256 of its JSON with sorted keys
    (dativo computes the same of the state it stores, for ``$DATIVO_RESUME_POINT``)."""
    digest = hashlib.sha256(orjson.dumps(state, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"state:{digest}"


@dataclass
class Progress:
    """A stream's position in the run and what of it the table already holds."""

    skip: int = 0  # records of the stream, from the resume point, already in the table
    batches: int = 0  # flushes of this run committed to the table
    received: int = 0  # records of the stream read in this process
    known: frozenset[str] = frozenset()  # points earlier runs of the load marked
    points: dict[str, int] = field(default_factory=dict)  # marked since the last flush

    @classmethod
    def of(cls, table: Table, load: str, run_id: str, resumed: str, points: list[str]) -> Progress:
        """The stream's progress in ``table`` for a run of ``load`` resumed from ``resumed``
        whose points so far are ``points`` (each before any record of the stream)."""
        frontier: dict[str, int] = {}  # run -> records it committed
        at: dict[str, int] = {}  # run -> its count at the resume point
        known: set[str] = set()
        batches = 0
        for snapshot in table.snapshots():
            summary = snapshot.summary
            if summary is None or summary.get(LOAD) != load:
                continue
            run = summary[RUN_ID]
            if run == run_id:
                batches = max(batches, int(summary[BATCH] or 0))
            frontier[run] = max(frontier.get(run, 0), int(summary[RECORDS] or 0))
            marked: dict[str, int] = orjson.loads(summary.get(POINTS) or "{}")
            known.update(marked)
            if resumed in marked:  # the latest place of the point: the smaller skip
                at[run] = max(at.get(run, 0), marked[resumed])
        skip = max((frontier[run] - count for run, count in at.items()), default=0)
        return cls(skip, batches, known=frozenset(known), points=dict.fromkeys(points, 0))

    @property
    def skipping(self) -> bool:
        """Whether records still arriving are ones the table holds."""
        return self.received < self.skip

    def mark(self, point: str, received: int) -> None:
        """Record that ``point`` came after ``received`` records of the stream."""
        self.points[point] = received

    def marks(self, load: str, run_id: str) -> dict[str, str]:
        """The summary properties of the next flush (which covers every record received)."""
        return {
            LOAD: load,
            RUN_ID: run_id,
            BATCH: str(self.batches + 1),
            RECORDS: str(self.received),
            POINTS: orjson.dumps(self.points).decode(),
        }

    def committed_through(self) -> None:
        """Record that the flush of every received record is committed."""
        self.batches += 1
        self.points = {}
