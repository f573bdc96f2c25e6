"""``--about``: the target's name, version, capabilities and settings, as JSON or Markdown."""

from __future__ import annotations

import typing as t

import orjson

from target_jsonl import __version__
from target_jsonl.settings import SCHEMA

if t.TYPE_CHECKING:
    from collections.abc import Callable

ABOUT: dict[str, t.Any] = {
    "name": "target-jsonl",
    "description": "Writes each stream's records to JSON-lines files in destination_path, "
    "each published whole by an atomic rename at a commit, and echoes a STATE once every "
    "record before it is committed (fsync'ed).",
    "version": __version__,
    "capabilities": ["about", "batch", "validate-records"],
    "settings": SCHEMA,
}


def _as_json(about: dict[str, t.Any]) -> str:
    return orjson.dumps(about, option=orjson.OPT_INDENT_2).decode() + "\n"


def _as_markdown(about: dict[str, t.Any]) -> str:
    settings = about["settings"]
    lines = [
        f"# {about['name']} {about['version']}",
        "",
        about["description"],
        "",
        "## Capabilities",
        "",
        *(f"- {capability}" for capability in about["capabilities"]),
        "",
        "## Settings",
        "",
        "| Setting | Type | Required | Default | Description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, spec in settings["properties"].items():
        required = "yes" if name in settings["required"] else "no"
        kind = " or ".join(spec["type"]) if isinstance(spec["type"], list) else spec["type"]
        default = orjson.dumps(spec["default"]).decode() if "default" in spec else ""
        lines.append(f"| `{name}` | {kind} | {required} | {default} | {spec['description']} |")
    return "\n".join(lines) + "\n"


FORMATTERS: dict[str, Callable[[dict[str, t.Any]], str]] = {
    "json": _as_json,
    "markdown": _as_markdown,
}


def render(about_format: str) -> str:
    """Describe the target in one of ``FORMATTERS``."""
    return FORMATTERS[about_format](ABOUT)
