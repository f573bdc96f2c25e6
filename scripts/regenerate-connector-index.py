#!/usr/bin/env python3
"""Regenerate ``registry/connector-index.json``: the generated registry layer below the curated
``registry/connectors.yaml``.

Reads a connector-index snapshot folder (``meltano-hub.json``: the Meltano Hub's extractor,
loader and mapper definitions; ``airbyte-pypi.json``: the ``airbyte-source-*`` and
``airbyte-destination-*`` packages on PyPI) and writes one registry entry per connector variant.
With ``--hub-api`` the Hub part is read from the Hub's public API instead of the snapshot.

    .venv/bin/python scripts/regenerate-connector-index.py ../shared/data/connector-index
    .venv/bin/python scripts/regenerate-connector-index.py SNAPSHOT --hub-api   # needs a network
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dativo_ingest.registry.models import Capability, ConnectorSpec

REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "registry" / "connector-index.json"
HUB_API_ROOT = "https://hub.meltano.com/meltano/api/v1"
HUB_TYPES = {"extractor": "source", "loader": "target", "mapper": "mapper"}
HUB_PLURAL = {"extractor": "extractors", "loader": "loaders", "mapper": "mappers"}
KINDS = {  # Meltano setting kind -> JSON type; others (oauth, unstated) stay null
    "string": "string",
    "password": "string",
    "email": "string",
    "file": "string",
    "date_iso8601": "string",
    "integer": "integer",
    "boolean": "boolean",
    "array": "array",
    "object": "object",
}
KNOWN_CAPABILITIES = {c.value for c in Capability}
# singer-sdk taps declare about + stream-maps and all have the SDK's `--test` connection test
SDK_MARKERS = {"about", "stream-maps"}
AIRBYTE_CAPABILITIES = {"source": ["catalog", "discover", "state", "test"], "target": ["test"]}


def hub_entry(plugin: dict[str, Any]) -> dict[str, Any]:
    """One registry entry from one Hub definition in the snapshot's shape."""
    kind = plugin["kind"]
    capabilities = [c for c in plugin.get("capabilities", []) if c in KNOWN_CAPABILITIES]
    if kind == "extractor" and set(capabilities) >= SDK_MARKERS and "test" not in capabilities:
        capabilities.append("test")
    entry: dict[str, Any] = {
        "name": plugin["name"],
        "variant": plugin["variant"],
        "default": plugin.get("default_variant", False),
        "type": HUB_TYPES[kind],
        "engine": "singer",
        "pip_url": plugin.get("pip_url"),
        "executable": plugin.get("executable") or plugin["name"],
        "capabilities": sorted(set(capabilities)),
        "settings": [_setting(s) for s in plugin.get("settings", [])],
        "settings_groups": plugin.get("settings_group_validation", []),
        "keywords": plugin.get("keywords", []),
        "repo": plugin.get("repo"),
        "catalogue": "meltano-hub",
    }
    return _compact(entry)


def _setting(setting: dict[str, Any]) -> dict[str, Any]:
    kind = setting.get("kind")
    options = setting.get("options")
    json_kind = KINDS.get(kind or "")
    if kind == "options" and options:
        types = {type(o) for o in options}
        json_kind = {str: "string", int: "integer"}.get(types.pop()) if len(types) == 1 else None
    return _compact(
        {
            "name": setting["name"],
            "kind": json_kind,
            "required": setting.get("required", False),
            "secret": setting.get("sensitive", False) or kind == "password",
            "default": setting.get("value"),
            "options": options,
        },
        keep={"kind", "default"} if "value" in setting else {"kind"},
    )


def airbyte_entry(package: dict[str, Any]) -> dict[str, Any]:
    """One registry entry from one PyPI Airbyte package."""
    side = "source" if package["type"] == "source" else "target"
    return {
        "name": package["name"],
        "variant": "airbyte",
        "type": side,
        "engine": "airbyte",
        "protocol": "airbyte",
        "pip_url": package["pip_url"],
        "executable": package["executable"],
        "capabilities": AIRBYTE_CAPABILITIES[side],
        "catalogue": "airbyte-pypi",
    }


def _compact(entry: dict[str, Any], keep: set[str] = frozenset()) -> dict[str, Any]:
    """Leave out what equals the registry's own default (false, null, empty)."""
    return {
        k: v
        for k, v in entry.items()
        if k in keep or not (v is None or v is False or v == [] or v == {})
    }


def build(hub: list[dict[str, Any]], airbyte: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every usable entry, validated as a registry entry; report what was left out and why."""
    entries, skipped = [], Counter()
    for raw, make in [*((p, hub_entry) for p in hub), *((p, airbyte_entry) for p in airbyte)]:
        entry = make(raw)
        if not entry.get("pip_url"):
            skipped["no pip_url"] += 1
            continue
        try:
            ConnectorSpec.model_validate(entry)
        except ValidationError as exc:
            raise SystemExit(f"{entry['name']} ({entry['variant']}): {exc}") from None
        entries.append(entry)
    for reason, count in skipped.items():
        print(f"left out {count} entries: {reason}", file=sys.stderr)
    return sorted(entries, key=lambda e: (e["name"], e["variant"]))


def write_index(entries: list[dict[str, Any]], output: Path) -> None:
    """One entry per line, so a regeneration diffs line by line."""
    lines = ",\n".join(json.dumps(e, separators=(",", ":"), ensure_ascii=False) for e in entries)
    output.write_text(f'{{"connectors":[\n{lines}\n]}}\n', encoding="utf-8")


def hub_from_api(root: str) -> list[dict[str, Any]]:
    """The Hub's definitions from its API, reduced to the snapshot's shape."""
    refs = []
    for kind, plural in HUB_PLURAL.items():
        for plugin in _get_json(f"{root}/plugins/{plural}/index").values():
            for variant, ref in plugin["variants"].items():
                refs.append((kind, plugin.get("default_variant") == variant, ref["ref"]))
    with ThreadPoolExecutor(8) as pool:
        plugins = pool.map(lambda ref: _get_json(ref[2]), refs)
        return [reduce_definition(p, k, d) for (k, d, _), p in zip(refs, plugins, strict=True)]


def reduce_definition(plugin: dict[str, Any], kind: str, default: bool) -> dict[str, Any]:
    """A Hub definition as the snapshot holds it: facts only, ``required`` derived from
    ``settings_group_validation`` (in every group: true; in none: false; else left out)."""
    groups = plugin.get("settings_group_validation") or []
    declared = {s["name"] for s in plugin.get("settings", [])}
    derivable = all(name in declared for group in groups for name in group)
    settings = []
    for setting in plugin.get("settings", []):
        reduced = {k: setting[k] for k in ("name", "kind", "value", "options") if k in setting}
        reduced["sensitive"] = bool(setting.get("sensitive"))
        if "options" in reduced:
            reduced["options"] = [o.get("value") for o in reduced["options"]]
        in_groups = [setting["name"] in group for group in groups]
        if derivable and (all(in_groups) or not any(in_groups)):
            reduced["required"] = bool(groups) and all(in_groups)
        settings.append(reduced)
    fields = ("name", "variant", "pip_url", "executable", "capabilities", "keywords", "repo")
    return {
        **{k: plugin[k] for k in fields if k in plugin},
        "kind": kind,
        "default_variant": default,
        "settings": settings,
        "settings_group_validation": groups,
    }


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.load(response)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "snapshot", type=Path, help="folder with meltano-hub.json, airbyte-pypi.json"
    )
    parser.add_argument(
        "--hub-api",
        nargs="?",
        const=HUB_API_ROOT,
        metavar="ROOT",
        help=f"read the Hub from its API (default root: {HUB_API_ROOT})",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT, help="default: %(default)s")
    args = parser.parse_args()
    airbyte = json.loads((args.snapshot / "airbyte-pypi.json").read_text())
    if args.hub_api:
        hub = hub_from_api(args.hub_api)
    else:
        hub = json.loads((args.snapshot / "meltano-hub.json").read_text())
    entries = build(hub, airbyte)
    write_index(entries, args.output)
    protocols = Counter(e.get("protocol", "singer") for e in entries)
    print(f"wrote {len(entries)} entries ({dict(protocols)}) to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
