"""``dativo discover JOB`` and ``dativo check JOB``."""

from __future__ import annotations

import argparse
from pathlib import Path

import orjson


def register(commands: argparse._SubParsersAction) -> None:
    discover = commands.add_parser(
        "discover", help="discover the tap's streams and write the catalog, selection applied"
    )
    discover.add_argument("job", help="path of the job file (YAML)")
    discover.add_argument(
        "--output", type=Path, help="where to write it (default: catalogs/<tenant_id>/<name>.json)"
    )
    discover.set_defaults(handler=discover_job)
    check = commands.add_parser("check", help="test both connections without moving data")
    check.add_argument("job", help="path of the job file (YAML)")
    check.set_defaults(handler=check_job)


def discover_job(args: argparse.Namespace) -> int:
    from dativo_ingest.catalog import prepare_catalog
    from dativo_ingest.catalog.discovery import default_catalog_path
    from dativo_ingest.catalog.selection import stream_id
    from dativo_ingest.config import load_job
    from dativo_ingest.install.programs import program_for
    from dativo_ingest.pipeline.workdir import private_workdir, write_private
    from dativo_ingest.runtime import Launch
    from dativo_ingest.runtime.options import effective_runtime
    from dativo_ingest.state import dativo_home

    job = load_job(args.job)
    home = dativo_home()
    output = args.output or default_catalog_path(job)
    program = program_for(job.source, "source", home)
    with private_workdir(home) as workdir:
        config = write_private(workdir / "source-config.json", orjson.dumps(job.source.config))
        runtime = effective_runtime(job.source.runtime, job.spec.runtime, program.runtime)
        launch = Launch(runtime, workdir)
        catalog = prepare_catalog(job, program, config, launch=launch, refresh=True, output=output)
    if catalog is None:
        print(f"{program.name} cannot discover its streams (no `discover` capability)")
        return 1
    for stream in catalog["streams"]:
        chosen = next(
            (
                e["metadata"].get("selected")
                for e in stream.get("metadata", [])
                if e.get("breadcrumb") == []
            ),
            None,
        )
        print(f"{'selected' if chosen else 'skipped '}  {stream_id(stream)}")
    print(f"catalog written to {output}")
    return 0


def check_job(args: argparse.Namespace) -> int:
    from dativo_ingest.config import load_job
    from dativo_ingest.pipeline.check import check_connections
    from dativo_ingest.state import dativo_home

    results = check_connections(load_job(args.job), dativo_home())
    for result in results:
        verdict = {True: "PASS", False: "FAIL", None: "SKIP"}[result.passed]
        print(f"{verdict}  {result.side} {result.connector}: {result.detail}")
    return 0 if all(r.passed is not False for r in results) else 1
