"""``dativo new connector NAME --kind native|tap|target``: a connector package that works as
generated (pyproject, package, ``__main__``, tests, README, Dockerfile), its entry in the
project's ``registry.yaml`` and an example job."""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dativo_ingest.exceptions import ConfigurationError
from dativo_ingest.paths import PROJECT_FILE, find_project_root, shipped_root
from dativo_ingest.registry.loader import PROJECT_REGISTRY_NAME

TEMPLATES = Path(__file__).resolve().parents[1] / "connector_templates"
KINDS = ("native", "tap", "target")
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Scaffold:
    """One connector to generate: its names and where it goes."""

    name: str
    kind: str
    folder: Path
    root: Path

    @property
    def package(self) -> str:
        return self.name.replace("-", "_")

    @property
    def class_name(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("-"))

    @property
    def job(self) -> Path:
        return self.root / "jobs" / f"{self.name}.yaml"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("new", help="create a connector: dativo new connector NAME")
    what = parser.add_subparsers(dest="what", required=True, metavar="WHAT")
    connector = what.add_parser(
        "connector",
        help="a connector package with tests, its registry.yaml entry and an example job",
    )
    connector.add_argument("name", help="lower-case words joined by '-', e.g. my-api")
    connector.add_argument(
        "--kind",
        choices=KINDS,
        default="native",
        help="native: a Python class (extract/discover/check_connection); tap: a Singer tap "
        "on singer-sdk; target: a Singer target on the connector kit (default: native)",
    )
    connector.add_argument(
        "--directory", type=Path, help="default: connectors/NAME in the project root"
    )
    connector.set_defaults(handler=new_connector)


def new_connector(args: argparse.Namespace) -> int:
    if not _NAME.match(args.name):
        raise ConfigurationError(
            f"connector name {args.name!r}: lower-case letters and digits in words joined by "
            "'-' (e.g. my-api)"
        )
    root = find_project_root(Path.cwd())
    if root is None:  # the registry entry and the job belong to a project
        raise ConfigurationError(
            f"{Path.cwd()} is not in a dativo project (no {PROJECT_FILE} here or above): "
            "run `dativo init` first"
        )
    folder = (args.directory or root / "connectors" / args.name).resolve()
    scaffold = Scaffold(args.name, args.kind, folder, root)
    if folder.exists() and any(folder.iterdir()):
        raise ConfigurationError(f"{folder} exists and is not empty")
    if scaffold.job.exists():
        raise ConfigurationError(f"{scaffold.job} exists")
    registry = root / PROJECT_REGISTRY_NAME
    entry = registry_entry(scaffold, registry.parent)
    existing = _registry_text(registry, args.name)
    for template in _templates(args.kind):
        _render(template, scaffold)
    registry.write_text(existing + _entry_text(entry, existing))
    scaffold.job.parent.mkdir(parents=True, exist_ok=True)
    scaffold.job.write_text(example_job(scaffold))
    print(f"created {args.kind} connector {args.name} in {folder}")
    print(f"  registered in {registry}; example job {scaffold.job}")
    print(f"  test it:  cd {folder} && uv venv && uv pip install -e '.[test]' && .venv/bin/pytest")
    print(f"  run it:   dativo run {os.path.relpath(scaffold.job)}")
    return 0


def registry_entry(scaffold: Scaffold, registry_folder: Path) -> dict[str, Any]:
    """The connector's entry in the project's ``registry.yaml``."""
    entry: dict[str, Any] = {
        "name": scaffold.name,
        "variant": "local",
        "type": "target" if scaffold.kind == "target" else "source",
        "description": f"{scaffold.name} (made by dativo new connector)",
        "engine": "native" if scaffold.kind == "native" else "singer",
        "path": os.path.relpath(scaffold.folder, registry_folder),
    }
    if scaffold.kind == "native":
        entry["entrypoint"] = f"{scaffold.package}.extractor:{scaffold.class_name}Extractor"
        entry["capabilities"] = ["catalog", "discover", "state", "test"]
    elif scaffold.kind == "tap":
        entry["executable"] = scaffold.name
        entry["capabilities"] = ["catalog", "discover", "state"]
    else:
        entry["executable"] = scaffold.name
        entry["capabilities"] = ["test"]
    if scaffold.kind == "target":
        entry["settings"] = [{"name": "destination_path", "required": True}]
    else:
        entry["settings"] = [{"name": "count", "kind": "integer", "description": "items"}]
    return entry


def example_job(scaffold: Scaffold) -> str:
    """A job running the new connector: a source into target-jsonl, or the project template's
    CSV file into a target."""
    if scaffold.kind == "target":
        source = {
            "connector": "tap-csv",
            "config": {
                "files": [{"entity": "customers", "path": "data/customers.csv", "keys": ["id"]}]
            },
        }
        target = {
            "connector": scaffold.name,
            "config": {"destination_path": f"output/{scaffold.name}"},
        }
    else:
        source = {"connector": scaffold.name, "config": {"count": 10}}
        target = {
            "connector": "target-jsonl",
            "config": {"destination_path": f"output/{scaffold.name}"},
        }
    job = {"tenant_id": "dev", "name": scaffold.name, "source": source, "target": target}
    header = f"# {scaffold.name}'s example job (dativo new connector). Paths: project root.\n"
    return header + yaml.safe_dump(job, sort_keys=False)


def _registry_text(registry: Path, name: str) -> str:
    """The registry file's text to append an entry to; it must hold only ``connectors:``."""
    if not registry.exists():
        return "connectors:\n"
    text = registry.read_text()
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{registry}: not YAML: {exc}") from None
    if (
        not isinstance(data, dict)
        or set(data) - {"connectors"}
        or not isinstance(data.get("connectors") or [], list)
    ):
        raise ConfigurationError(
            f"{registry}: holds more than a connectors: list; add the entry by hand"
        )
    if any(entry.get("name") == name for entry in data.get("connectors") or []):
        raise ConfigurationError(f"{registry}: connector {name!r} exists")
    if not data.get("connectors"):  # absent, null or []: a bare key the entry goes under
        text = re.sub(r"^connectors:.*\n?", "", text, flags=re.MULTILINE)
        return text.rstrip("\n") + ("\n" if text.strip() else "") + "connectors:\n"
    return text if text.endswith("\n") else text + "\n"


def _entry_text(entry: dict[str, Any], existing: str) -> str:
    """``entry`` as a YAML list item, indented like the entries already in ``existing``."""
    indent = next((m.group(1) for m in re.finditer(r"^( *)- ", existing, re.MULTILINE)), "  ")
    lines = yaml.safe_dump([entry], sort_keys=False).splitlines()
    return "".join(f"{indent}{line}\n" for line in lines)


def _templates(kind: str) -> list[tuple[Path, Path]]:
    """``(template file, its path under the connector folder)`` of the kind."""
    found = []
    for base in (TEMPLATES / "common", TEMPLATES / kind):
        for path in sorted(base.rglob("*.tmpl")):
            found.append((path, path.relative_to(base)))
    return found


def _render(template: tuple[Path, Path], scaffold: Scaffold) -> None:
    source, relative = template
    parts = [
        "tests" if part == "_tests" else part.replace("__PACKAGE__", scaffold.package)
        for part in relative.parts
    ]
    target = scaffold.folder.joinpath(*parts).with_suffix("")
    target.parent.mkdir(parents=True, exist_ok=True)
    text = source.read_text()
    for token, value in _values(scaffold).items():
        text = text.replace(token, value)
    target.write_text(text)


def _values(scaffold: Scaffold) -> dict[str, str]:
    kit = (shipped_root() / "libs" / "dativo-connector-kit").as_uri()
    kind = scaffold.kind
    script = {
        "tap": f"{scaffold.package}.tap:main",
        "target": f"{scaffold.package}.target:main",
    }.get(kind)
    return {
        "__KIND_TITLE__": {
            "native": "native connector (a Python class dativo runs as a Singer tap)",
            "tap": "Singer tap on singer-sdk",
            "target": "Singer target on the Dativo connector kit",
        }[kind],
        "__WHAT__": "a target writing JSON-lines files"
        if kind == "target"
        else "a source of `count` numbered items, incremental by id",
        "__DESCRIPTION__": f"{scaffold.name}: a {kind} connector for Dativo Ingest.",
        "__DEPENDENCIES__": {
            "native": "",
            "tap": '\n    "singer-sdk>=0.54,<0.55",',
            "target": '\n    "orjson>=3.10",',
        }[kind],
        "__KIT_USE__": {
            "native": "SourceConfig, state, logging, errors and the dativo-native runner",
            "tap": "error classes and exit codes",
            "target": "the target loop, batch policy, command line and test suite",
        }[kind],
        "__KIT_URI__": kit,
        "__SCRIPTS__": f'\n[project.scripts]\n{scaffold.name} = "{script}"\n' if script else "",
        "__ENTRYPOINT__": (
            f'"dativo-native", "--entrypoint", '
            f'"{scaffold.package}.extractor:{scaffold.class_name}Extractor"'
            if kind == "native"
            else f'"{scaffold.name}"'
        ),
        "__SETTINGS__": "| setting | required | meaning |\n| --- | --- | --- |\n"
        + (
            "| `destination_path` | yes | output folder |"
            if kind == "target"
            else "| `count` | no | how many items (default 10) |"
        ),
        "__JOB__": os.path.relpath(scaffold.job, scaffold.root),
        "__NAME__": scaffold.name,
        "__KIND__": kind,
        "__PACKAGE__": scaffold.package,
        "__CLASS__": scaffold.class_name,
    }
