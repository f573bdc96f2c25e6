"""Every first-party connector has a page under docs/connectors/ listing each setting its
registry entry declares, with an example job that dativo accepts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from dativo_ingest.config import load_job

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "docs" / "connectors"
FIRST_PARTY = [
    entry
    for entry in yaml.safe_load((ROOT / "registry" / "connectors.yaml").read_text())["connectors"]
    if entry.get("path")
]
VARIABLES = {"PG_PASSWORD": "p", "API_KEY": "k", "API_TOKEN": "t"}


@pytest.mark.parametrize("entry", FIRST_PARTY, ids=lambda entry: entry["name"])
def test_page_lists_the_settings_and_its_example_job_loads(entry, tmp_path):
    page = (PAGES / f"{entry['name']}.md").read_text()
    for section in ("## Setup", "## Settings", "## Example job", "## Troubleshooting"):
        assert section in page
    for setting in entry.get("settings", []):
        assert f"| `{setting['name']}` |" in page, setting["name"]
    (example,) = re.findall(r"```yaml\n(.*?)```", page, re.DOTALL)
    job = tmp_path / "job.yaml"
    job.write_text(example)
    (tmp_path / "dativo.yaml").write_text("{}\n")
    loaded = load_job(job, environ=VARIABLES)
    assert entry["name"] in (loaded.source.name, loaded.target.name)
    assert f"[{entry['name']}]({entry['name']}.md)" in (PAGES / "README.md").read_text()
