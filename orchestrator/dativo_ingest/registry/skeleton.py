"""Job file skeletons from registry entries (``dativo add``), the way ``meltano add`` starts a
plugin's config: every setting listed, required ones to fill in, secrets as ``${VAR}``."""

from __future__ import annotations

import json
import re
from typing import Any

from dativo_ingest.protocol.adapters import adapter_for
from dativo_ingest.registry.models import ConnectorSpec, Setting
from dativo_ingest.registry.search import install_source

_Tree = dict[str, "Setting | _Tree"]


def env_var(spec: ConnectorSpec, setting: Setting) -> str:
    """The environment variable a secret setting is read from: ``TAP_X_SETTING_NAME``."""
    return re.sub(r"[^A-Z0-9]+", "_", f"{spec.name}_{setting.name}".upper()).strip("_")


def job_skeleton(
    source: ConnectorSpec, target: ConnectorSpec, tenant: str, name: str, command: str
) -> str:
    """The text of a job file piping ``source`` into ``target``, with commented settings."""
    lines = [
        f"# Written by `{command}`.",
        *(
            f"# {side}: {_provenance(spec)}"
            for side, spec in (("source", source), ("target", target))
        ),
        "# Fill in the settings marked `required` (null until you do); uncomment the others you",
        "# need. Secrets are read from the environment: set the ${VARIABLES} before running.",
        "# Then: dativo check <this file>, and dativo run <this file>.",
        f"tenant_id: {name_token(tenant)}",
        f"name: {name_token(name)}",
    ]
    for side, spec in (("source", source), ("target", target)):
        lines += [f"{side}:", f"  connector: {spec.name}", f"  variant: {spec.variant}"]
        lines += _config_lines(spec)
    return "\n".join(lines) + "\n"


def secret_variables(*specs: ConnectorSpec) -> list[str]:
    """The environment variables the skeleton of these connectors reads (uncommented)."""
    return [env_var(spec, s) for spec in specs for s in spec.settings if s.secret and _active(s)]


def name_token(text: str) -> str:
    """``text`` as a job identifier (``[a-z0-9_-]+``)."""
    return re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-") or "job"


def _provenance(spec: ConnectorSpec) -> str:
    where = f"from the {spec.catalogue} index" if spec.catalogue else "curated"
    install = {"path": "first-party", "docker": f"image {spec.docker_image}"}.get(
        install_source(spec), f"installs {spec.pip_url}"
    )
    return f"{spec.label}, {where}, {install}"


def _config_lines(spec: ConnectorSpec) -> list[str]:
    if not spec.settings:
        command = adapter_for(spec.protocol).spec_args()
        shown = " ".join(map(str, [spec.executable, *(command or [])]))
        how = f"`{shown}`" if command else "its documentation"
        return ["  config: {}  # the registry lists no settings for it: see " + how]
    lines = ["  config:"]
    if len(spec.settings_groups) > 1:
        groups = " | ".join(" + ".join(g) for g in spec.settings_groups)
        lines.append(f"    # a complete config sets one of these groups: {groups}")
    tree: _Tree = {}
    for setting in spec.settings:
        *parents, leaf = setting.name.split(".")
        node = tree
        for parent in parents:
            child = node.setdefault(parent, {})
            if isinstance(child, Setting):  # `a` and `a.b` both declared: keep both flat
                node, leaf = tree, setting.name
                break
            node = child
        node[leaf] = setting
    _render(spec, tree, 4, lines)
    return lines


def _render(spec: ConnectorSpec, tree: _Tree, indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for key, item in tree.items():
        if isinstance(item, Setting):
            value, notes = _value(spec, item)
            comment = "" if _active(item) else "# "
            lines.append(f"{pad}{comment}{_key(key)}: {value}  # {notes}")
        else:
            comment = "" if _any_active(item) else "# "
            lines.append(f"{pad}{comment}{_key(key)}:")
            _render(spec, item, indent + 2, lines)


def _active(setting: Setting) -> bool:
    """Written uncommented: required, or with a default (which Meltano would apply)."""
    return setting.required or _usable_default(setting) is not None


def _any_active(tree: _Tree) -> bool:
    return any(
        _active(item) if isinstance(item, Setting) else _any_active(item) for item in tree.values()
    )


def _usable_default(setting: Setting) -> Any:
    """The default, unless it refers to Meltano's environment (``$MELTANO_PROJECT_ROOT``)."""
    default = setting.default
    return None if isinstance(default, str) and "$" in default else default


def _value(spec: ConnectorSpec, setting: Setting) -> tuple[str, str]:
    notes = [n for n in ("required" if setting.required else "", setting.kind or "") if n]
    if setting.secret:
        notes.append("secret")
    if setting.options:
        notes.append("one of " + ", ".join(map(str, setting.options)))
    default = _usable_default(setting)
    if default is None and setting.default is not None:
        notes.append(f"the catalogue's default: {setting.default}")
    if setting.description:
        notes.append(setting.description)
    if setting.secret:
        return f"${{{env_var(spec, setting)}}}", ", ".join(notes)
    return _yaml(default), ", ".join(notes)


def _yaml(value: Any) -> str:
    """A YAML flow value (JSON is YAML)."""
    return json.dumps(value, ensure_ascii=False)


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", key) else json.dumps(key)
