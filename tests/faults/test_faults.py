"""The seeded fault-injection suite: real pipelines, faults at random moments, and after each
one, reruns until success and a comparison with the source: no record missing, duplicates only
at or after the state saved at the fault, and that state never ahead of the data.

The pipelines run concurrently (each its own DATIVO_HOME, source and destination); within a
pipeline, injections follow one another, each on a new chunk of source data.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dativo_ingest.runtime.container.spec import CONTAINER_UID
from tests.conftest import FAKE_TAP, SHARED_CONNECTORS
from tests.faults.injection import (
    FAULTS,
    Outcome,
    describe,
    inject,
    no_fault,
    out_of_memory,
    restart_server,
)
from tests.faults.injection import table as results_table
from tests.faults.pipelines import (
    BATCH_ROWS,
    AirbytePipeline,
    CsvPipeline,
    OomPipeline,
    Pipeline,
    PostgresPipeline,
    airbyte_source,
    flooding_wrapper,
)
from tests.faults.postgres import PrivatePostgres

pytestmark = pytest.mark.timeout(600)
WORKERS = 4
RESULTS = (
    Path(os.environ.get("DATIVO_FAULT_RESULTS", ""))
    if "DATIVO_FAULT_RESULTS" in os.environ
    else None
)


def _csv(folder: Path, name: str, tap: str, target: str, kind: str, **extra) -> CsvPipeline:
    folder.mkdir(parents=True)
    out = folder / "out"
    out.mkdir()
    return CsvPipeline(
        name,
        folder,
        {
            "executable": extra.pop("tap_program", tap),
            "config": {
                "files": [
                    {
                        "entity": "items",
                        "path": str(folder / "items.csv"),
                        "keys": ["id"],
                        "replication_key": "id",
                    }
                ]
            },
        },
        {
            "executable": target,
            "config": {"destination_path": str(out), "batch_size_rows": BATCH_ROWS},
        },
        ("tap-csv", kind),
        **extra,
    )


@pytest.fixture(scope="session")
def campaign(
    tmp_path_factory, connector_exe, fault_seed, pg_dsn, require_component
) -> Iterator[list[Outcome]]:
    """Every injection of the suite, run once per session."""
    import psycopg

    root = tmp_path_factory.mktemp("faults")
    tap_csv, jsonl = connector_exe("tap-csv"), connector_exe("target-jsonl")
    parquet = connector_exe("target-parquet")
    tap_pg, target_pg = connector_exe("tap-postgres"), connector_exe("target-postgres")
    require_component(os.geteuid() == 0, "the disk-full fault mounts a small tmpfs (needs root)")
    private = PrivatePostgres()
    schema = f"faults_{os.getpid()}_{random.randrange(1 << 20)}"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(
            f'CREATE TABLE "{schema}".items (id int PRIMARY KEY, name text, amount numeric)'
        )
    tmpfs = root / "disk-full-1" / "out"
    plan: list[tuple[Pipeline, list[str], int]] = []
    kill_and_stall = list(FAULTS)
    for n in (1, 2, 3):
        pipeline = _csv(root / f"csv-jsonl-{n}", f"csv-jsonl-{n}", tap_csv, jsonl, "target-jsonl")
        pipeline.retry = n == 1  # transient faults retried by dativo itself
        plan.append((pipeline, kill_and_stall, 6))
    for n in (1, 2):
        name = f"csv-parquet-{n}"
        plan.append(
            (_csv(root / name, name, tap_csv, parquet, "target-parquet"), kill_and_stall, 6)
        )
    airbyte_folder = root / "airbyte-jsonl-1"
    airbyte_folder.mkdir()
    (airbyte_folder / "out").mkdir()
    airbyte = AirbytePipeline(
        "airbyte-jsonl-1",
        airbyte_folder,
        {
            "executable": airbyte_source(),
            "protocol": "airbyte",
            "config": {"state_every": 5000},
        },
        {
            "executable": jsonl,
            "config": {"destination_path": str(airbyte_folder / "out"), "batch_size_rows": 2500},
        },
        ("fake_airbyte_source", "target-jsonl"),
        chunk=80_000,  # it is quick: a smaller chunk is often sent before a fault can land
    )
    plan.append((airbyte, kill_and_stall, 8))
    pg_folder = root / "pg-pg-1"
    pg_folder.mkdir()
    server = {"host": "127.0.0.1", "user": "postgres", "database": "postgres"}
    stream = f"{schema}-items"
    postgres = PostgresPipeline(
        "pg-pg-1",
        pg_folder,
        {
            "executable": tap_pg,
            "config": {
                **server,
                "port": 5432,
                "filter_schemas": [schema],
                "emit_activate_version_messages": False,
            },
            "select": [f"{stream}.*"],
            "metadata": {stream: {"replication-key": "id"}},
        },
        {
            "executable": target_pg,
            "config": {
                **server,
                "port": private.port,
                "default_target_schema": f"{schema}_out",
                "add_record_metadata": False,
                "activate_version": False,
                "batch_size_rows": BATCH_ROWS,
            },
        },
        ("tap-postgres", "target-postgres"),
        retry=True,
        chunk=10_000,
    )
    postgres.source_dsn, postgres.schema, postgres.target_dsn = pg_dsn, schema, private.dsn
    pg_faults = ["SIGKILL tap", "SIGKILL target", "SIGKILL dativo", "Postgres restart"]
    plan.append((postgres, pg_faults, 8))
    disk = _csv(root / "disk-full-1", "disk-full-1", tap_csv, jsonl, "target-jsonl")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(tmpfs)], check=True)
    disk.after_fault = lambda: _resize(tmpfs, "256m")
    plan.append((disk, ["disk full"], 4))
    flood_folder = root / "flood-1"
    flood = _csv(
        flood_folder,
        "flood-1",
        tap_csv,
        jsonl,
        "target-jsonl",
        tap_program=str(flooding_wrapper(root, tap_csv, 3)),
    )
    plan.append((flood, ["stderr flood (3 MB)"], 3))
    plan.append((_oom_pipeline(root, require_component), ["out of memory (container)"], 3))

    faults = {
        **FAULTS,
        "Postgres restart": restart_server(private.restart),
        "disk full": _fill_disk(tmpfs),
        "stderr flood (3 MB)": no_fault,
        "out of memory (container)": out_of_memory,
    }
    rng = random.Random(fault_seed)
    schedules = [
        (pipeline, [rng.choice(choices) for _ in range(count)], random.Random(rng.random()))
        for pipeline, choices, count in plan
    ]

    def run_schedule(pipeline: Pipeline, names: list[str], own: random.Random) -> list[Outcome]:
        """Inject until ``len(names)`` faults hit a live run (at most three times as many
        tries)."""
        outcomes: list[Outcome] = []
        for name in names * 3:
            outcomes.append(
                inject(pipeline, name, faults[name], pipeline.chunk, own, dict(os.environ))
            )
            if sum(o.injected for o in outcomes) == len(names):
                break
        return outcomes

    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            done = pool.map(lambda s: run_schedule(*s), schedules)
            outcomes = [outcome for batch in done for outcome in batch]
        if RESULTS is not None:
            RESULTS.write_text(results_table(outcomes) + "\n")
        yield outcomes
    finally:
        subprocess.run(["umount", "--lazy", str(tmpfs)], check=False)
        private.stop()
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _oom_pipeline(root: Path, require) -> OomPipeline:
    """The fake tap into target-jsonl in a container limited to 96 MB (its image built first)."""
    from dativo_ingest.install.images import ensure_image
    from dativo_ingest.registry import load_registry
    from dativo_ingest.runtime.container.api import DockerError, connect

    try:
        ensure_image(load_registry().resolve("target-jsonl"), connect())
    except DockerError as exc:
        require(False, f"Docker is not usable here: {exc}")
    folder = root / "oom-1"
    out = folder / "out"
    out.mkdir(parents=True)
    if os.geteuid() == 0:
        os.chown(out, CONTAINER_UID, CONTAINER_UID)
    return OomPipeline(
        "oom-1",
        folder,
        {"executable": FAKE_TAP, "config": {"state_every": 1000}},
        {
            "connector": "target-jsonl",
            "config": {"destination_path": str(out), "batch_size_rows": BATCH_ROWS},
            "runtime": {
                "mode": "docker",
                "memory": "96m",
                "mounts": [{"path": str(out), "writable": True}],
            },
        },
        ("fake_tap.py", "--attach"),
        retry=True,
        extra_env={"DATIVO_CONNECTORS_DIR": str(SHARED_CONNECTORS)},
    )


def _resize(mount: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(mount)], check=True)


def _fill_disk(mount: Path):
    """Shrink the target's filesystem to what it holds plus 256 KiB, before the run writes:
    the target runs out of space in the middle of the chunk."""

    def fault(run, pipeline, rng) -> bool:
        used = int(
            subprocess.run(
                ["du", "-sk", str(mount)], capture_output=True, text=True, check=True
            ).stdout.split()[0]
        )
        _resize(mount, f"{used + 256 + rng.randrange(256)}k")
        return True

    return fault


def _failures(outcomes: list[Outcome], seed: int) -> str:
    bad = [describe(o) for o in outcomes if not o.ok or o.note]
    return f"seed {seed} (DATIVO_FAULT_SEED={seed} replays it):\n" + "\n".join(bad)


def test_at_least_fifty_faults_were_injected(campaign, fault_seed):
    injected = [o for o in campaign if o.injected]
    assert len(injected) >= 50, f"seed {fault_seed}: only {len(injected)} faults hit a live run"


def test_no_record_is_missing_and_state_is_never_ahead_of_the_data(campaign, fault_seed):
    assert all(o.ok for o in campaign), _failures(campaign, fault_seed)


def test_every_pipeline_recovers(campaign, fault_seed):
    assert not [o for o in campaign if o.note], _failures(campaign, fault_seed)


def test_upserting_target_has_no_duplicates(campaign, fault_seed):
    assert all(o.duplicates == 0 for o in campaign if o.pipeline.startswith("pg-")), _failures(
        campaign, fault_seed
    )


def test_a_flooding_connector_is_logged_and_the_run_succeeds(campaign, fault_seed):
    flood = [o for o in campaign if o.pipeline == "flood-1"]
    assert flood and all(o.runs == 1 for o in flood), _failures(campaign, fault_seed)
    for outcome in flood:
        logged = outcome.log.read_text(errors="replace").count("] flood ")
        assert logged == 3 * 5000, f"{outcome.log}: {logged} flood lines logged"


def test_results_table_is_printed(campaign):
    print(results_table(campaign))
    assert re.search(r"\| SIGKILL tap \(csv-jsonl\) \| \d+ \|", results_table(campaign))
