"""``--about``: the target's name, version, capabilities and settings, as JSON or Markdown."""

from __future__ import annotations

import typing as t

import orjson

from target_postgres import __version__
from target_postgres.settings import SCHEMA

if t.TYPE_CHECKING:
    from collections.abc import Callable

ABOUT: dict[str, t.Any] = {
    "name": "target-postgres",
    "description": "Loads Singer streams into Postgres tables with COPY (straight into the "
    "table, or through a staging table upserted on the key properties), one transaction per "
    "batch; echoes a STATE once every record before it is committed.",
    "version": __version__,
    "capabilities": ["about", "activate-version", "hard-delete", "validate-records"],
    "settings": SCHEMA,
}


def _as_json(about: dict[str, t.Any]) -> str:
    return orjson.dumps(about, option=orjson.OPT_INDENT_2).decode() + "\n"


def _as_markdown(about: dict[str, t.Any]) -> str:
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
        "| Setting | Type | Default | Description |",
        "| --- | --- | --- | --- |",
    ]
    for name, spec in about["settings"]["properties"].items():
        default = orjson.dumps(spec["default"]).decode() if "default" in spec else ""
        lines.append(f"| `{name}` | {spec['type']} | {default} | {spec['description']} |")
    return "\n".join(lines) + "\n"


FORMATTERS: dict[str, Callable[[dict[str, t.Any]], str]] = {
    "json": _as_json,
    "markdown": _as_markdown,
}


def render(about_format: str) -> str:
    """Describe the target in one of ``FORMATTERS``."""
    return FORMATTERS[about_format](ABOUT)
