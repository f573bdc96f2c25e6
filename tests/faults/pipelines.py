"""The real pipelines the fault suite breaks: each has its own DATIVO_HOME, job file, source
data that grows by a chunk of ids per injection, and a way to read back what landed."""

from __future__ import annotations

import json
import stat
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dativo_ingest.state import open_store
from tests.conftest import PROGRAMS

STREAM = "items"
RUN_LIMITS = {"idle_timeout": 4}  # quickly, yet above a loaded machine's start-up silences
BATCH_ROWS = 5000  # targets commit (and confirm a state) at least this often


@dataclass
class Pipeline:
    """One pipeline instance. ``markers`` find its tap and target among dativo's children."""

    name: str
    folder: Path
    source: dict[str, Any]
    target: dict[str, Any]
    markers: tuple[str, str]
    total: int = 0
    retry: bool = False
    chunk: int = 20_000  # source rows added per injection; tap-csv sends a STATE every 10,000
    extra_env: dict[str, str] = field(default_factory=dict)
    after_fault: Callable[[], None] | None = None  # undo a fault before the reruns

    @property
    def home(self) -> Path:
        return self.folder / "home"

    @property
    def state_id(self) -> str:
        return f"faults/{self.name}"

    def job_file(self) -> Path:
        job: dict[str, Any] = {
            "tenant_id": "faults",
            "name": self.name,
            "source": self.source,
            "target": self.target,
            **RUN_LIMITS,
        }
        if self.retry:
            job["retry"] = {"attempts": 5, "initial_delay": 0.5, "jitter": 0}
        path = self.folder / "job.yaml"
        path.write_text(yaml.safe_dump(job))
        return path

    def add_rows(self, count: int) -> None:
        """Make ids ``total + 1 .. total + count`` available at the source."""
        raise NotImplementedError

    def landed(self) -> Counter[int]:
        """How many times each id is committed at the destination."""
        raise NotImplementedError

    def bookmark(self) -> int:
        """The highest id the stored state says was delivered (0: no state)."""
        store = open_store(self.home)
        try:
            stored = store.get_state(self.state_id)
        finally:
            store.close()
        if stored is None:
            return 0
        return _bookmark_of(stored.value)

    def run_count(self) -> int:
        store = open_store(self.home)
        try:
            return len(store.list_runs(10_000, self.state_id))
        finally:
            store.close()

    def last_status(self) -> str | None:
        store = open_store(self.home)
        try:
            runs = store.list_runs(1, self.state_id)
        finally:
            store.close()
        return runs[0].status if runs else None


def _bookmark_of(value: Any) -> int:
    """Singer (``replication_key_value``), fake Airbyte (``last_id``), or Airbyte per-stream
    state wrapped by dativo: the id the next run resumes from. singer-sdk's
    ``progress_markers`` (an unsorted stream's progress, not yet a bookmark) do not count."""
    found: list[int] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, inner in node.items():
                if key == "progress_markers":
                    continue
                if key in ("replication_key_value", "last_id") and not isinstance(inner, dict):
                    found.append(int(inner))
                else:
                    walk(inner)
        elif isinstance(node, list):
            for inner in node:
                walk(inner)

    walk(value)
    return max(found, default=0)


class CsvPipeline(Pipeline):
    """tap-csv, incremental on ``id``, into a file target (target-jsonl or target-parquet)."""

    def add_rows(self, count: int) -> None:
        csv = self.folder / "items.csv"
        with open(csv, "a") as file:
            if self.total == 0:
                file.write("id,name,amount\n")
            file.writelines(
                f"{i},name-{i},{i % 997}.25\n"
                for i in range(self.total + 1, self.total + count + 1)
            )
        self.total += count

    def landed(self) -> Counter[int]:
        out = Path(self.target["config"]["destination_path"])
        counts: Counter[int] = Counter()
        if self.markers[1] == "target-parquet":
            import pyarrow.parquet as pq

            for file in sorted(out.rglob("*.parquet")):
                counts.update(pq.read_table(file, columns=["id"]).column("id").to_pylist())
            return counts
        for file in sorted(out.glob("*.jsonl")):
            with open(file, "rb") as lines:
                counts.update(json.loads(line)["id"] for line in lines if line.strip())
        return counts


class AirbytePipeline(Pipeline):
    """The scriptable Airbyte source (a separate program speaking the Airbyte protocol),
    translated into target-jsonl."""

    def add_rows(self, count: int) -> None:
        self.total += count
        self.source["config"]["until"] = self.total

    landed = CsvPipeline.landed


class OomPipeline(Pipeline):
    """The scriptable fake tap into target-jsonl in a container with a memory limit. The first
    run of each chunk starts with a record larger than the limit: the container is killed out
    of memory, and the job's ``retry`` (or a rerun) goes on without it."""

    big_record_bytes: int = 160 << 20

    def add_rows(self, count: int) -> None:
        self.total += count
        counter = self.folder / f"big-record-runs-{self.total}"
        self.source["config"].update(
            until=self.total,
            big_record_bytes=self.big_record_bytes,
            big_record_runs=[str(counter), 1],
        )

    def landed(self) -> Counter[int]:
        counts: Counter[int] = Counter()
        for file in sorted(Path(self.target["config"]["destination_path"]).glob("*.jsonl")):
            with open(file, "rb") as lines:
                counts.update(json.loads(line)["id"] for line in lines if line.strip())
        return counts


class PostgresPipeline(Pipeline):
    """tap-postgres (the shared server, own schema) into target-postgres (a private server
    the suite restarts), upserting on ``id``."""

    source_dsn: str = ""
    schema: str = ""
    target_dsn: str = ""

    def add_rows(self, count: int) -> None:
        import psycopg

        with psycopg.connect(self.source_dsn, autocommit=True) as conn:
            conn.execute(
                f'INSERT INTO "{self.schema}".items SELECT i, $$n$$ || i, i * 1.5'
                " FROM generate_series(%s::int, %s::int) i",
                (self.total + 1, self.total + count),
            )
        self.total += count

    def landed(self) -> Counter[int]:
        import psycopg

        with psycopg.connect(self.target_dsn, autocommit=True) as conn:
            found = conn.execute(
                "SELECT 1 FROM pg_tables WHERE schemaname = %s AND tablename = 'items'",
                (self.schema + "_out",),
            ).fetchone()
            if not found:
                return Counter()
            rows = conn.execute(f'SELECT id FROM "{self.schema}_out".items').fetchall()
        return Counter(row[0] for row in rows)


def flooding_wrapper(folder: Path, program: str, megabytes: int) -> Path:
    """An executable that floods stderr with ``megabytes`` MB of log lines while running
    ``program`` (the real connector) with the same arguments."""
    wrapper = folder / f"flooding-{Path(program).name}"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"python3 -c 'import sys\nfor i in range({megabytes} * 5000): "
        'sys.stderr.write("flood %d " % i + "x" * 190 + "\\n")\' &\n'
        f'exec {program} "$@"\n'
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return wrapper


def airbyte_source() -> str:
    return str(PROGRAMS / "fake_airbyte_source.py")


def env_for(pipeline: Pipeline, base: dict[str, str]) -> dict[str, str]:
    return {**base, "DATIVO_HOME": str(pipeline.home), **pipeline.extra_env}
