"""Finding connectors by words: name, variant and keywords, best matches first."""

from __future__ import annotations

import re
from collections.abc import Iterable

from dativo_ingest.registry.models import ConnectorSpec

_PREFIXES = re.compile(r"^(tap|target|source|destination|map)-")


def install_source(spec: ConnectorSpec) -> str:
    """Where an install comes from: ``path``, ``pypi``, ``git`` or ``docker``."""
    if spec.path:
        return "path"
    if spec.docker_image:
        return "docker"
    return "git" if "git+" in (spec.pip_url or "") else "pypi"


def search(specs: Iterable[ConnectorSpec], words: list[str]) -> list[ConnectorSpec]:
    """Entries matching every word (case-insensitive), ranked: the name without its
    ``tap-``/``source-``... prefix equal to the words, then names containing them, then
    variants and keywords."""
    wanted = [w.lower() for w in words]
    scored = []
    for spec in specs:
        score = _score(spec, wanted)
        if score:
            scored.append((-score, spec.name, spec.variant, spec))
    return [spec for *_, spec in sorted(scored, key=lambda s: s[:3])]


def _score(spec: ConnectorSpec, words: list[str]) -> int:
    name = spec.name.lower()
    other = " ".join([spec.variant, *spec.keywords, spec.description]).lower()
    total = 4 if "-".join(words) in (name, _PREFIXES.sub("", name)) else 0
    for word in words:
        if word in name:
            total += 2
        elif word in other:
            total += 1
        else:
            return 0
    return total
