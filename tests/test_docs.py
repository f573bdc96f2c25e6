"""The README documents every command, and the docs name only files that exist."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from dativo_ingest.cli.main import build_parser

REPO = Path(__file__).resolve().parents[1]


def commands(parser: argparse.ArgumentParser, prefix: str = "dativo") -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = commands(sub, f"{prefix} {name}")
                found += nested or [f"{prefix} {name}"]
    return found


def test_readme_documents_every_command():
    readme = (REPO / "README.md").read_text()
    missing = [c for c in commands(build_parser()) if f"`{c}" not in readme]
    assert not missing, f"commands missing from README.md: {missing}"


def test_relative_links_in_docs_point_to_files():
    broken = []
    for doc in [REPO / "README.md", *(REPO / "docs").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#:]+)\)", doc.read_text()):
            if not (doc.parent / target).exists():
                broken.append(f"{doc.name}: {target}")
    assert not broken
