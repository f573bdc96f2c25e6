"""``dativo contract generate|validate|diff``: data contracts (docs/contracts.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

from dativo_ingest.cli.table import table_lines

CONTRACTS_FOLDER = Path("assets")
CONTRACTS_VERSION = "v1.0"
DRIFT_EXIT_CODE = 1


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("contract", help="write, check and compare data contracts")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    generate = actions.add_parser(
        "generate", help="write a contract per selected stream from the source's discovery"
    )
    generate.add_argument("job", help="path of the job file (YAML)")
    generate.add_argument(
        "--out",
        type=Path,
        help=f"folder to write them in (default: {CONTRACTS_FOLDER}/<connector>/"
        f"{CONTRACTS_VERSION} in the project root)",
    )
    generate.add_argument("--force", action="store_true", help="overwrite existing files")
    generate.set_defaults(handler=generate_contracts)
    validate = actions.add_parser(
        "validate", help="check contract files: OK, or FAIL with each key path and reason"
    )
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    validate.set_defaults(handler=validate_contracts)
    diff = actions.add_parser(
        "diff",
        help="compare what the source offers now with the job's contracts; exit 1 on drift",
    )
    diff.add_argument("job", help="path of the job file (YAML)")
    diff.add_argument("--json", action="store_true", help="print the changes as a JSON list")
    diff.set_defaults(handler=diff_contracts)


def generate_contracts(args: argparse.Namespace) -> int:
    from dativo_ingest.cli.project_args import open_job
    from dativo_ingest.contracts.generate import (
        contract_document,
        contract_text,
        file_name,
        write_contracts,
    )
    from dativo_ingest.exceptions import ConfigurationError
    from dativo_ingest.pipeline.discovery import source_offer

    out = args.out.resolve() if args.out else None
    job = open_job(args)
    source = job.source.name
    folder = out or job.project.root / CONTRACTS_FOLDER / source / CONTRACTS_VERSION
    offered = source_offer(job)
    if not offered:
        raise ConfigurationError(f"{job.file}: {source} offers no stream the job selects")
    files = {
        folder / file_name(stream.name): contract_text(
            source,
            contract_document(
                source, stream.name, stream.schema, stream.key_properties, stream.physical_name
            ),
        )
        for stream in offered
    }
    if len(files) < len(offered):
        taken: dict[str, list[str]] = {}
        for stream in offered:
            taken.setdefault(file_name(stream.name), []).append(stream.name)
        shared = "; ".join(f"{f}: {', '.join(n)}" for f, n in taken.items() if len(n) > 1)
        raise ConfigurationError(
            f"streams would share a contract file ({shared}): generate them one at a time, "
            "each selected by source.select, into different --out folders"
        )
    write_contracts(files, force=args.force)
    for path in files:
        print(f"wrote {_shown(path, job.project.root)}")
    print("\nName them in the job (paths are relative to the project root):\nsource:")
    print(f"  assets: {_shown(folder, job.project.root)}")
    return 0


def validate_contracts(args: argparse.Namespace) -> int:
    from dativo_ingest.contracts.model import ContractFileError, load_contract

    bad = 0
    for file in args.files:
        try:
            contract = load_contract(file)
        except ContractFileError as exc:
            bad += 1
            for where, why in exc.problems:
                print(f"FAIL  {file}: {where + ': ' if where else ''}{why}")
            continue
        streams = ", ".join(s.name for s in contract.schema_) or "no streams"
        print(f"OK    {file}: {contract.label} ({streams})")
    return 2 if bad else 0


def diff_contracts(args: argparse.Namespace) -> int:
    from dativo_ingest.cli.project_args import open_job
    from dativo_ingest.contracts.diff import diff_streams
    from dativo_ingest.contracts.shape import shape_of_contract, shape_of_schema
    from dativo_ingest.exceptions import ConfigurationError
    from dativo_ingest.pipeline.discovery import source_offer

    job = open_job(args)
    if not job.contracts:
        raise ConfigurationError(f"{job.file}: source.assets names no contract to compare with")
    offered = {
        s.name: shape_of_schema(s.name, s.schema, s.key_properties) for s in source_offer(job)
    }
    contracts = {name: shape_of_contract(name, c) for name, c in job.contracts.items()}
    drifts = diff_streams(contracts, offered)
    if args.json:
        payload = [drift.to_dict() for drift in drifts]
        sys.stdout.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode() + "\n")
    elif drifts:
        header = ("STREAM", "CHANGE", "COLUMN", "CONTRACT", "SOURCE")
        rows = [
            (d.stream, d.change, d.column or "-", d.contract or "-", d.source or "-")
            for d in drifts
        ]
        for line in table_lines([header, *rows]):
            print(line)
    else:
        print(f"no drift: the source offers what its contracts say ({len(contracts)} streams)")
    return DRIFT_EXIT_CODE if drifts else 0


def _shown(path: Path, root: Path) -> str:
    """``path`` relative to the project root when it is inside it."""
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
