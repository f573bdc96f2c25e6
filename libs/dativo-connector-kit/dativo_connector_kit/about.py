"""``--about``: a connector's name, version, capabilities and settings, as JSON or Markdown.

``about`` holds ``name``, ``description``, ``version``, ``capabilities`` (a list) and
``settings`` (the JSON schema of the config: ``properties``, ``required``).
"""

from __future__ import annotations

import typing as t

import orjson

if t.TYPE_CHECKING:
    from collections.abc import Callable


def as_json(about: dict[str, t.Any]) -> str:
    """The description as indented JSON."""
    return orjson.dumps(about, option=orjson.OPT_INDENT_2).decode() + "\n"


def as_markdown(about: dict[str, t.Any]) -> str:
    """The description as Markdown; the Required column appears when any setting is required."""
    settings = about["settings"]
    required = settings.get("required", [])
    columns = ["Setting", "Type", *(["Required"] if required else []), "Default", "Description"]
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
        f"| {' | '.join(columns)} |",
        f"|{' --- |' * len(columns)}",
    ]
    for name, spec in settings["properties"].items():
        kind = " or ".join(spec["type"]) if isinstance(spec["type"], list) else spec["type"]
        default = orjson.dumps(spec["default"]).decode() if "default" in spec else ""
        cells = [f"`{name}`", kind, *(["yes" if name in required else "no"] if required else [])]
        cells += [default, spec["description"]]
        lines.append(f"| {' | '.join(cells)} |")
    return "\n".join(lines) + "\n"


FORMATTERS: dict[str, Callable[[dict[str, t.Any]], str]] = {
    "json": as_json,
    "markdown": as_markdown,
}


def render(about: dict[str, t.Any], about_format: str) -> str:
    """Describe the connector in one of ``FORMATTERS``."""
    return FORMATTERS[about_format](about)
