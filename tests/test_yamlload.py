"""load_yaml reads what yaml.safe_load reads, and fails with safe_load's own error."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dativo_ingest.yamlload import load_yaml

REPO = Path(__file__).resolve().parents[1]
MALFORMED = [
    "a: [1, 2",  # libyaml: "did not find expected ',' or ']'" at line 2
    "a: &x 1\nb: *y",  # libyaml: "found undefined alias", no name
    "\tfoo: 1",  # libyaml leaves out the character
    "key: value\n  bad: indent",
    "- a\nb: c",
    'a: "unterminated',
    "a: !!python/object:os.system x",  # no unsafe tags either way
]


def test_the_fast_loader_is_libyaml() -> None:
    # without libyaml, load_yaml is safe_load itself and the speed-up is lost silently
    assert yaml.__with_libyaml__


@pytest.mark.parametrize(
    "path",
    [REPO / "registry" / "connectors.yaml", *sorted((REPO / "jobs").rglob("*.yaml"))],
    ids=lambda p: str(p.relative_to(REPO)),
)
def test_the_repository_files_read_the_same(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert load_yaml(text) == yaml.safe_load(text)


def test_scalars_resolve_the_same() -> None:
    text = "d: 2024-01-01\nf: 1.5e3\no: 0o17\nb: yes\nn: ~\ni: 0x1F\nt: 2024-01-01T10:00:00Z\n"
    assert load_yaml(text) == yaml.safe_load(text)


@pytest.mark.parametrize("text", MALFORMED)
def test_errors_are_safe_loads_own(text: str) -> None:
    with pytest.raises(yaml.YAMLError) as expected:
        yaml.safe_load(text)
    with pytest.raises(yaml.YAMLError) as got:
        load_yaml(text)
    assert type(got.value) is type(expected.value)
    assert str(got.value) == str(expected.value)
