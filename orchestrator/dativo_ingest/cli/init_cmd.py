"""``dativo init [DIR]``: a new project with an example job."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from dativo_ingest.exceptions import ConfigurationError
from dativo_ingest.paths import PROJECT_FILE

TEMPLATE = Path(__file__).resolve().parents[1] / "project_template"
_RENAMED = {"gitignore": ".gitignore", "env.example": ".env.example"}


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "init", help="create a project: dativo.yaml, jobs/, catalogs/, .env.example, .gitignore"
    )
    parser.add_argument("directory", nargs="?", default=".", help="default: the current folder")
    parser.set_defaults(handler=init_project)


def init_project(args: argparse.Namespace) -> int:
    root = Path(args.directory).resolve()
    if (root / PROJECT_FILE).exists():
        raise ConfigurationError(f"{root / PROJECT_FILE} exists: {root} is already a project")
    for source in sorted(TEMPLATE.rglob("*")):
        if source.is_dir() or "__pycache__" in source.parts:
            continue
        relative = source.relative_to(TEMPLATE)
        target = root / relative.with_name(_RENAMED.get(relative.name, relative.name))
        if target.exists():
            continue  # never overwrite a user's file
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    (root / "catalogs").mkdir(exist_ok=True)
    print(f"created a dativo project in {root}")
    print("  try: dativo run jobs/example/csv_to_jsonl.yaml")
    return 0
