"""``dativo connectors list|search|show|prune``, ``dativo add`` and ``dativo install``."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
from pathlib import Path

import orjson

from dativo_ingest.cli.project_args import current_project, project_registry
from dativo_ingest.cli.table import table_lines
from dativo_ingest.config import load_job
from dativo_ingest.exceptions import ConfigurationError
from dativo_ingest.install import connector_env, ensure_installed, environments
from dativo_ingest.registry import ConnectorSpec, Registry
from dativo_ingest.registry.search import install_source, search
from dativo_ingest.registry.skeleton import job_skeleton, name_token, secret_variables

TYPES = ("source", "target", "mapper")
# what `dativo add` pairs a connector with when no other side is named
DEFAULT_PARTNER = {"source": "target-jsonl", "target": "tap-csv"}


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    connectors = commands.add_parser("connectors", help="the connector registry")
    actions = connectors.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the curated connectors (--all: and the index)")
    listing.add_argument("--all", action="store_true", help="add the connector index's entries")
    listing.add_argument("--type", choices=TYPES, help="only sources, targets or mappers")
    listing.set_defaults(handler=list_connectors)
    find = actions.add_parser("search", help="find connectors by name and keyword")
    find.add_argument("words", nargs="+", metavar="WORD", help="every word must match")
    find.add_argument("--type", choices=TYPES, help="only sources, targets or mappers")
    find.set_defaults(handler=search_connectors)
    show = actions.add_parser("show", help="one connector: entry, install, settings")
    show.add_argument("name", help="NAME or VARIANT-NAME")
    show.add_argument("--variant")
    show.set_defaults(handler=show_connector)
    prune = actions.add_parser(
        "prune",
        help="remove installed environments that no registry entry and no job of the project "
        "uses (with a DATIVO_CONNECTORS_DIR shared by projects, run it where all jobs are)",
    )
    prune.add_argument("--dry-run", action="store_true", help="list them, remove nothing")
    prune.set_defaults(handler=prune_connectors)
    install = commands.add_parser("install", help="install connectors into isolated environments")
    install.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="NAME or VARIANT-NAME (default: every first-party connector)",
    )
    install.add_argument(
        "--bin-dir",
        type=Path,
        help="also link each installed connector's executable into this folder (for use by hand)",
    )
    install.set_defaults(handler=install_connectors)
    add = commands.add_parser("add", help="write a job skeleton for a connector, settings listed")
    add.add_argument("name", help="NAME or VARIANT-NAME")
    add.add_argument("--variant")
    add.add_argument(
        "--with",
        dest="partner",
        metavar="NAME",
        help="the other side (default: target-jsonl for a source, tap-csv for a target)",
    )
    add.add_argument("--tenant", default="default", help="tenant_id (default: %(default)s)")
    add.add_argument("--job", help="the job's name (default: from the connector names)")
    add.add_argument(
        "--output", type=Path, help="default: jobs/<tenant>/<job>.yaml; an existing file is kept"
    )
    add.set_defaults(handler=add_job)


def list_connectors(args: argparse.Namespace) -> int:
    project = current_project(args)
    registry = project_registry(project)
    specs = registry.everything() if args.all else list(registry)
    _print_table(registry, [s for s in specs if args.type in (None, s.type)], project.home)
    return 0


def search_connectors(args: argparse.Namespace) -> int:
    project = current_project(args)
    registry = project_registry(project)
    found = [s for s in search(registry.everything(), args.words) if args.type in (None, s.type)]
    if not found:
        print(f"no connector matches {' '.join(args.words)!r}")
        return 1
    _print_table(registry, found, project.home)
    return 0


def _print_table(registry: Registry, specs: list[ConnectorSpec], home: Path) -> None:
    rows = [("NAME", "VARIANT", "TYPE", "PROTOCOL", "INSTALLS FROM", "INSTALLED", "LISTED BY")]
    for spec in specs:
        installed = "yes" if connector_env(spec, home).is_complete else "no"
        default = spec.default and registry.resolve(spec.name) is spec
        rows.append(
            (
                spec.name,
                spec.variant + ("*" if default else ""),
                spec.type,
                spec.protocol,
                _origin(spec),
                installed,
                "curated" if registry.is_curated(spec) else str(spec.catalogue),
            )
        )
    for line in table_lines(rows):
        print(line)
    curated = sum(registry.is_curated(s) for s in specs)
    print(
        f"{len(specs)} connectors ({curated} curated: tested with dativo); * default variant; "
        "git installs need access to the repository host"
    )


def add_job(args: argparse.Namespace) -> int:
    registry = project_registry(current_project(args))
    spec = registry.resolve(args.name, args.variant)
    if spec.type == "mapper":
        raise ConfigurationError(
            f"{spec.label} is a mapper; jobs cannot run mappers yet (only a source and a target)"
        )
    partner = registry.resolve(args.partner or DEFAULT_PARTNER[spec.type])
    source, target = (spec, partner) if spec.type == "source" else (partner, spec)
    if source.type != "source" or target.type != "target":
        raise ConfigurationError(f"--with {partner.name}: need a {source.type} and a target")
    job = name_token(args.job or f"{source.name}-to-{target.name}")
    output = args.output or Path("jobs") / name_token(args.tenant) / f"{job}.yaml"
    if output.exists():
        raise ConfigurationError(f"{output} exists; name another file with --output")
    command = f"dativo add {args.name}" + (f" --variant {args.variant}" if args.variant else "")
    text = job_skeleton(source, target, args.tenant, job, command)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output}: fill in its settings, then `dativo check {output}`")
    for variable in secret_variables(source, target):
        print(f"  set {variable} in the environment (a secret setting)")
    return 0


def show_connector(args: argparse.Namespace) -> int:
    project = current_project(args)
    spec = project_registry(project).resolve(args.name, args.variant)
    env = connector_env(spec, project.home)
    shown = spec.model_dump(mode="json", exclude_none=True)
    shown["installed"] = (
        {"path": str(env.path), "version": _installed_version(spec, env.path)}
        if env.is_complete
        else None
    )
    print(orjson.dumps(shown, option=orjson.OPT_INDENT_2).decode())
    return 0


def install_connectors(args: argparse.Namespace) -> int:
    project = current_project(args)
    registry = project_registry(project)
    specs = (
        [registry.resolve(name) for name in args.names]
        if args.names
        else [spec for spec in registry if spec.path and spec.default]
    )
    for spec in specs:
        env = ensure_installed(spec, project.home)
        print(f"{spec.label}: {env.path}")
        if args.bin_dir and spec.executable and env.executable(spec.executable).exists():
            _link(env.executable(spec.executable), args.bin_dir / spec.executable)
    return 0


def prune_connectors(args: argparse.Namespace) -> int:
    """Remove the environments of connectors' past versions: those that no entry of the
    project's registry and no job under its ``jobs/`` folder would start."""
    project = current_project(args)
    used = {connector_env(spec, project.home).path for spec in project_registry(project)}
    jobs = project.root / "jobs"
    for file in sorted(jobs.rglob("*.y*ml")) if jobs.is_dir() else []:
        try:
            job = load_job(file, environment=args.environment)
        except ConfigurationError as exc:
            raise ConfigurationError(f"{exc}\nnothing pruned: fix or move the job first") from None
        for side in (job.source, job.target):
            if side.spec is not None:
                used.add(connector_env(side.spec, project.home).path)
    unused = [env for env in environments(project.home) if env not in used]
    for env in unused:
        size = sum(f.stat().st_size for f in env.rglob("*") if f.is_file() and not f.is_symlink())
        print(f"{'would remove' if args.dry_run else 'removed'} {env} ({size / 1e6:.1f} MB)")
        if not args.dry_run:
            shutil.rmtree(env)
    print(
        f"{len(unused)} unused environment(s), {len(used & set(environments(project.home)))} kept"
    )
    return 0


def _link(executable: Path, link: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    temporary = link.with_name(f".{link.name}.tmp")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(executable.resolve())
    temporary.replace(link)


def _origin(spec: ConnectorSpec) -> str:
    source = install_source(spec)
    if source == "path":
        return os.path.relpath(spec.path or "")
    if source == "docker":
        return f"docker {spec.docker_image}"
    return f"{source} {spec.pip_url}"


def _distribution(spec: ConnectorSpec) -> str | None:
    if spec.path:
        import tomllib  # only for path connectors' listing, not on every command's start

        project = tomllib.loads((Path(spec.path) / "pyproject.toml").read_text())
        return str(project["project"]["name"])
    if spec.pip_url:
        return spec.pip_url.split("==")[0].split("[")[0]
    return None


def _installed_version(spec: ConnectorSpec, env: Path) -> str | None:
    distribution = _distribution(spec)
    if distribution is None:
        return None
    code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
    result = subprocess.run([env / "bin" / "python", "-c", code], capture_output=True, text=True)
    return result.stdout.strip() or None
