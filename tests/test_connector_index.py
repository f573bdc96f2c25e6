"""The connector index: the generated layer below the curated registry, found by name, listed,
searched, and turned into job skeletons by ``dativo add``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dativo_ingest.config import load_job
from dativo_ingest.install.connectors import requirements
from dativo_ingest.registry import (
    ConnectorIndex,
    ConnectorIndexError,
    ConnectorSpec,
    Registry,
    RegistryError,
)
from dativo_ingest.registry.loader import BUILTIN_REGISTRY, load_registry, read_registry_file
from tests.local_http import serve_folder

REPO = Path(__file__).resolve().parents[1]
# the snapshot the index is made from: `shared/` beside the clone (or beside its parent folder)
SNAPSHOT = next(
    (
        folder / "shared" / "data" / "connector-index"
        for folder in (REPO.parent, REPO.parent.parent)
        if (folder / "shared" / "data" / "connector-index").is_dir()
    ),
    REPO.parent / "shared" / "data" / "connector-index",
)
SCRIPT = REPO / "scripts" / "regenerate-connector-index.py"


def test_the_committed_index_is_what_the_script_makes_of_the_snapshot(tmp_path):
    if not (SNAPSHOT / "meltano-hub.json").is_file():
        pytest.skip(f"SKIPPED LOUDLY: no connector-index snapshot at {SNAPSHOT}")
    output = tmp_path / "index.json"
    result = subprocess.run(
        [sys.executable, SCRIPT, SNAPSHOT, "--output", output], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "wrote 1423 entries ({'airbyte': 290, 'singer': 1133})" in result.stderr
    assert "left out 1 entries: no pip_url" in result.stderr  # tap-mssql (singer-io)
    assert output.read_bytes() == (REPO / "registry" / "connector-index.json").read_bytes()


def test_list_all_has_hundreds_of_singer_and_airbyte_connectors_and_marks_curated(dativo):
    listed = dativo("connectors", "list", "--all")
    assert listed.returncode == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines()[1:-1]]
    names = {
        protocol: {row[0] for row in rows if row[3] == protocol}
        for protocol in ("singer", "airbyte")
    }
    assert len(names["singer"]) >= 500 and len(names["airbyte"]) >= 250
    by_key = {(row[0], row[1].rstrip("*")): row for row in rows}
    assert by_key[("tap-csv", "dativo")][-1] == "curated"
    assert by_key[("target-jsonl", "andyh1203")][4:6] == ["pypi", "target-jsonl==0.1.4"]
    assert by_key[("tap-feed", "jawats")][4:6] == ["pypi", "tap-feed"]
    assert by_key[("tap-feed", "jawats")][-1] == "meltano-hub"
    assert by_key[("source-pokeapi", "airbyte")][-1] == "airbyte-pypi"
    assert by_key[("tap-github", "singer-io")][4] == "pypi"
    assert by_key[("tap-3plcentral", "airbyte")][4] == "git"
    # one default per name: the curated one where there is one
    assert by_key[("tap-postgres", "dativo")][1] == "dativo*"
    assert by_key[("tap-postgres", "transferwise")][1] == "transferwise"

    curated = dativo("connectors", "list").stdout.splitlines()[1:-1]
    assert 10 <= len(curated) < 50 and all(line.endswith("curated") for line in curated)
    mappers = dativo("connectors", "list", "--all", "--type", "mapper").stdout.splitlines()[1:-1]
    assert {line.split()[0] for line in mappers} == {
        "map-gpt-embeddings",
        "meltano-map-transformer",
        "transform-field",
    }


def test_search_finds_by_name_and_by_keyword(dativo):
    found = dativo("connectors", "search", "postgres").stdout.splitlines()[1:-1]
    names = [line.split()[0] for line in found]
    assert {"tap-postgres", "target-postgres", "source-postgres"} & set(names) >= {
        "tap-postgres",
        "target-postgres",
    }
    assert all("postgres" in name for name in names)
    by_keyword = dativo("connectors", "search", "fsspec").stdout.splitlines()[1:-1]
    assert by_keyword and all("fsspec" not in line.split()[0] for line in by_keyword)
    sources = dativo("connectors", "search", "google", "ads", "--type", "source").stdout
    assert "source-google-ads" in sources and "target-" not in sources
    nothing = dativo("connectors", "search", "no-such-connector-anywhere")
    assert nothing.returncode == 1 and "no connector matches" in nothing.stdout


def test_curated_entries_stay_on_top_and_the_index_serves_the_rest():
    registry = load_registry()
    assert registry.resolve("target-jsonl", "andyh1203").pip_url == "target-jsonl==0.1.4"
    assert registry.resolve("tap-postgres").variant == "dativo"
    indexed = registry.resolve("tap-postgres", "transferwise")
    assert indexed.catalogue == "meltano-hub" and not registry.is_curated(indexed)
    feed = registry.resolve("tap-feed")  # two variants in the Hub: the Hub's default
    assert (feed.variant, feed.pip_url, feed.executable) == ("jawats", "tap-feed", "tap-feed")
    assert registry.resolve("airbyte-tap-feed").pip_url.startswith("git+https://")
    poke = registry.resolve("source-pokeapi")
    assert (poke.protocol, poke.pip_url) == ("airbyte", "airbyte-source-pokeapi==0.2.15")
    with pytest.raises(RegistryError, match="has no variant 'nope'; variants: airbyte, jawats"):
        registry.resolve("tap-feed", "nope")
    with pytest.raises(RegistryError, match="dativo connectors search"):
        registry.resolve("tap-nothing-like-this")


def test_hub_settings_keep_kind_secret_required_and_default():
    spec = load_registry().resolve("tap-feed")
    settings = {s.name: s for s in spec.settings}
    assert settings["feed_urls"].required and settings["feed_urls"].kind == "array"
    assert settings["feed_entry_fields"].default == ["id", "title", "link"]
    assert settings["start_date"].kind == "string" and not settings["start_date"].required
    assert "test" in spec.capabilities  # a singer-sdk tap (about + stream-maps): `--test`
    csv = {s.name: s for s in load_registry().resolve("target-csv", "singer-io").settings}
    assert csv["destination_path"].kind is None  # the Hub does not say
    assert csv["delimiter"].options == [",", "\\t", ";", "|"]


def test_the_index_is_not_read_for_curated_connectors(tmp_path):
    missing = ConnectorIndex(tmp_path / "no-index.json")
    registry = Registry(read_registry_file(BUILTIN_REGISTRY), missing)
    assert registry.resolve("tap-csv").variant == "dativo"
    assert registry.resolve("meltanolabs-tap-postgres").pip_url.startswith("meltanolabs-")
    with pytest.raises(ConnectorIndexError, match="cannot read the connector index"):
        registry.resolve("tap-feed")


def test_add_writes_a_job_skeleton_with_required_and_secret_settings(dativo, tmp_path):
    result = dativo("add", "tap-jotform", "--tenant", "Acme")
    assert result.returncode == 0, result.stderr
    job = tmp_path / "jobs" / "acme" / "tap-jotform-to-target-jsonl.yaml"
    text = job.read_text()
    assert "api_key: ${TAP_JOTFORM_API_KEY}  # required, string, secret" in text
    assert "set TAP_JOTFORM_API_KEY in the environment" in result.stdout
    assert "destination_path: null  # required, string, output folder" in text
    assert "# source: tap-jotform (reservoir-data), from the meltano-hub index" in text
    loaded = yaml.safe_load(text)
    assert loaded["source"] | {"config": None} == {
        "connector": "tap-jotform",
        "variant": "reservoir-data",
        "config": None,
    }
    again = dativo("add", "tap-jotform", "--tenant", "Acme")
    assert again.returncode == 2 and "exists" in again.stderr
    mapper = dativo("add", "meltano-map-transformer")
    assert mapper.returncode == 2 and "is a mapper" in mapper.stderr


def test_a_filled_skeleton_is_a_valid_job(dativo, tmp_path):
    output = tmp_path / "job.yaml"
    assert dativo("add", "target-duckdb", "--variant", "jwills", "--output", output).returncode == 0
    text = output.read_text()
    assert "filepath: null  # required, string, the catalogue's default: ${MELTANO" in text
    text = text.replace("filepath: null", "filepath: out.duckdb")
    text = text.replace("default_target_schema: null", "default_target_schema: main")
    text = text.replace("files: null", "files: [{entity: a, path: a.csv, keys: [id]}]")
    output.write_text(text)
    job = load_job(output, {})
    assert job.target.spec.pip_url == "target-duckdb~=0.8"
    assert job.target.config["filepath"] == "out.duckdb"
    assert job.target.config["batch_size_rows"] == 100000  # the Hub's default, written out


def test_the_script_reads_the_hub_api_the_same_way(tmp_path):
    """The Hub part from a Hub-shaped API served on 127.0.0.1 (definitions rebuilt from the
    snapshot, without the derived `required`) gives the same entries as the snapshot."""
    if not (SNAPSHOT / "meltano-hub.json").is_file():
        pytest.skip(f"SKIPPED LOUDLY: no connector-index snapshot at {SNAPSHOT}")
    wanted = {
        ("tap-feed", "jawats"),
        ("tap-singer-jsonl", "kgpayne"),
        ("tap-3plcentral", "airbyte"),
    }
    wanted |= {("meltano-map-transformer", "meltano"), ("target-duckdb", "jwills")}
    plugins = [
        p
        for p in json.loads((SNAPSHOT / "meltano-hub.json").read_text())
        if (p["name"], p["variant"]) in wanted
    ]
    api = tmp_path / "api"
    (tmp_path / "snapshot").mkdir()
    (tmp_path / "snapshot" / "airbyte-pypi.json").write_text("[]")
    with serve_folder(tmp_path) as root:
        for plural in ("extractors", "loaders", "mappers"):
            index: dict = {}
            for plugin in plugins:
                if f"{plugin['kind']}s" != plural:
                    continue
                ref = f"{root}/api/plugins/{plural}/{plugin['name']}--{plugin['variant']}"
                entry = index.setdefault(plugin["name"], {"variants": {}})
                entry["variants"][plugin["variant"]] = {"ref": ref}
                if plugin["default_variant"]:
                    entry["default_variant"] = plugin["variant"]
                _write_json(
                    api / "plugins" / plural / f"{plugin['name']}--{plugin['variant']}",
                    _raw(plugin),
                )
            _write_json(api / "plugins" / plural / "index", index)
        output = tmp_path / "index.json"
        result = subprocess.run(
            [
                sys.executable,
                SCRIPT,
                tmp_path / "snapshot",
                "--hub-api",
                f"{root}/api",
                "--output",
                output,
            ],
            capture_output=True,
            text=True,
        )
    assert result.returncode == 0, result.stderr
    committed = {
        line.rstrip(",")
        for line in (REPO / "registry" / "connector-index.json").read_text().splitlines()
    }
    made = output.read_text().splitlines()[1:-1]
    assert len(made) == len(wanted) and {line.rstrip(",") for line in made} <= committed


def _raw(plugin: dict) -> dict:
    """A Hub API definition: the snapshot's facts, options as {label, value}, no `required`."""
    raw = {k: v for k, v in plugin.items() if k not in ("kind", "default_variant")}
    raw["settings"] = [
        {k: v for k, v in setting.items() if k != "required"}
        | (
            {"options": [{"label": str(o), "value": o} for o in setting["options"]]}
            if "options" in setting
            else {}
        )
        for setting in plugin["settings"]
    ]
    return raw


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def test_a_pip_url_may_hold_several_requirements():
    def spec(pip_url: str) -> ConnectorSpec:
        return ConnectorSpec(
            name="x", type="source", engine="singer", executable="x", pip_url=pip_url
        )

    assert requirements(spec("tap-x setuptools<81")) == ("tap-x", "setuptools<81")
    assert requirements(spec("git+https://h/t.git@v0.1.0 fsspec[s3]")) == (
        "git+https://h/t.git@v0.1.0",
        "fsspec[s3]",
    )
    assert requirements(spec("tap-x @ git+https://h/t.git  pkg==1")) == (
        "tap-x @ git+https://h/t.git",
        "pkg==1",
    )
