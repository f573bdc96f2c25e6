"""``dativo connectors list|show`` and ``dativo install``."""

from __future__ import annotations

import argparse
import os
import subprocess
import tomllib
from pathlib import Path

import orjson

from dativo_ingest.cli.project_args import current_project, project_registry
from dativo_ingest.install import connector_env, ensure_installed
from dativo_ingest.registry import ConnectorSpec


def register(commands: argparse._SubParsersAction) -> None:
    connectors = commands.add_parser("connectors", help="the connector registry")
    actions = connectors.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="every known connector").set_defaults(handler=list_connectors)
    show = actions.add_parser("show", help="one connector: entry, install, settings")
    show.add_argument("name", help="NAME or VARIANT-NAME")
    show.add_argument("--variant")
    show.set_defaults(handler=show_connector)
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


def list_connectors(args: argparse.Namespace) -> int:
    project = current_project(args)
    home = project.home
    rows = [("NAME", "VARIANT", "TYPE", "ENGINE", "INSTALLED", "FROM")]
    for spec in project_registry(project):
        installed = "yes" if connector_env(spec, home).is_complete else "no"
        rows.append(
            (
                spec.name,
                spec.variant + ("*" if spec.default else ""),
                spec.type,
                spec.engine,
                installed,
                _origin(spec),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    print("* default variant")
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


def _link(executable: Path, link: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    temporary = link.with_name(f".{link.name}.tmp")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(executable.resolve())
    temporary.replace(link)


def _origin(spec: ConnectorSpec) -> str:
    if spec.path:
        return os.path.relpath(spec.path)
    return spec.pip_url or spec.docker_image or ""


def _distribution(spec: ConnectorSpec) -> str | None:
    if spec.path:
        project = tomllib.loads((Path(spec.path) / "pyproject.toml").read_text())
        return project["project"]["name"]
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
