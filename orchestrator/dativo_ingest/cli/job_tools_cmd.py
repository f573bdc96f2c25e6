"""``dativo discover JOB`` and ``dativo check JOB``."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    discover = commands.add_parser(
        "discover", help="discover the tap's streams and write the catalog, selection applied"
    )
    discover.add_argument("job", help="path of the job file (YAML)")
    discover.add_argument(
        "--output",
        type=Path,
        help="where to write it (default: catalogs/<tenant_id>/<name>.json in the project root)",
    )
    discover.add_argument(
        "--list",
        action="store_true",
        help="also list every field with its selection (selected, excluded, automatic)",
    )
    discover.set_defaults(handler=discover_job)
    check = commands.add_parser("check", help="test both connections without moving data")
    check.add_argument("job", help="path of the job file (YAML)")
    check.set_defaults(handler=check_job)


def discover_job(args: argparse.Namespace) -> int:
    from dativo_ingest.catalog import prepare_catalog
    from dativo_ingest.catalog.listing import selection_lines
    from dativo_ingest.cli.project_args import open_job
    from dativo_ingest.pipeline.discovery import source_launch

    output = args.output.resolve() if args.output else None
    job = open_job(args)
    output = output or job.catalog_path
    with source_launch(job) as source:
        program = source.program
        catalog = prepare_catalog(
            job, program, source.config_file, launch=source.launch, refresh=True, output=output
        )
    if catalog is None:
        print(f"{program.name} cannot discover its streams (no `discover` capability)")
        return 1
    for line in selection_lines(catalog, fields=args.list):
        print(line)
    print(f"catalog written to {output}")
    return 0


def check_job(args: argparse.Namespace) -> int:
    from dativo_ingest.cli.project_args import open_job
    from dativo_ingest.pipeline.check import check_connections

    job = open_job(args)
    results = check_connections(job, job.project.home)
    for result in results:
        verdict = {True: "PASS", False: "FAIL", None: "SKIP"}[result.passed]
        print(f"{verdict}  {result.side} {result.connector}: {result.detail}")
    return 0 if all(r.passed is not False for r in results) else 1
