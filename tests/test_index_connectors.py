"""Community connectors from the index, installed by name from PyPI with dativo's own install
machinery, each asked who it is; some of them run end to end here, against local files, a local
HTTP server or nothing at all.

Who-are-you, per kind: a Singer connector that declares the ``about`` capability answers
``--about --format json``; one that does not (the older singer-python programs) answers
``--help`` with its Singer command line; an Airbyte connector answers ``spec`` with a SPEC.
The connectors were picked light and among those that work on Python 3.11 today (see
docs/connectors.md). Installing and asking all 30 with empty environments and a warm uv cache
took 145 s of CPU (4 at a time; 4 min wall on a machine loaded 8-fold); once installed, the
whole file takes 47 s of CPU.
"""

from __future__ import annotations

import gzip
import json
import subprocess
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
import yaml

from dativo_ingest.install import ConnectorEnv, ensure_installed
from dativo_ingest.registry import Capability, ConnectorSpec, load_registry
from tests.conftest import SHARED_CONNECTORS
from tests.local_http import serve_folder

INSTALLS = [  # (name, variant): 30 connectors of five kinds, all from PyPI
    # Singer taps on the Meltano SDK (`--about`)
    ("tap-adanos", "adanos-software"),
    ("tap-airtable", "tomasvotava"),
    ("tap-circle-ci", "meltanolabs"),
    ("tap-feed", "jawats"),
    ("tap-geekbot", "edgarrmondragon"),
    ("tap-hotmart", "im-voracity"),
    ("tap-jotform", "reservoir-data"),
    ("tap-pipedream", "edgarrmondragon"),
    ("tap-pushbullet", "edgarrmondragon"),
    ("tap-substack", "tripleaceme"),
    ("tap-unirate", "unirate-api"),
    # Singer taps on singer-python (`--help`)
    ("tap-asana", "singer-io"),
    ("tap-chargify", "singer-io"),
    ("tap-closeio", "singer-io"),
    ("tap-harvest", "singer-io"),
    ("tap-pipedrive", "singer-io"),
    ("tap-trello", "singer-io"),
    # Singer targets
    ("target-apprise", "autoidm"),
    ("target-duckdb", "jwills"),
    ("target-miso", "misoai"),
    ("target-singer-jsonl", "kgpayne"),
    ("target-stitch", "singer-io"),
    # a mapper
    ("meltano-map-transformer", "meltano"),
    # Airbyte sources
    ("source-amplitude", "airbyte"),
    ("source-gitlab", "airbyte"),
    ("source-hardcoded-records", "airbyte"),
    ("source-smoke-test", "airbyte"),
    ("source-spacex-api", "airbyte"),
    ("source-xkcd", "airbyte"),
    ("source-jina-ai-reader", "airbyte"),
]
INSTALL_WORKERS = 4
pytestmark = pytest.mark.timeout(900)  # the first test waits for every install
FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Dativo test feed</title><link>http://example.invalid/</link>
<description>two items</description>
<item><title>First</title><link>http://example.invalid/1</link><guid>1</guid>
<pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate></item>
<item><title>Second</title><link>http://example.invalid/2</link><guid>2</guid>
<pubDate>Tue, 03 Nov 2026 10:00:00 GMT</pubDate></item>
</channel></rss>
"""


@dataclass(frozen=True)
class Answer:
    """A connector installed by name, and what it said when asked who it is."""

    spec: ConnectorSpec
    env: ConnectorEnv
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Answer | Exception]:
    """Every connector of INSTALLS installed by name into the tests' shared connectors folder
    (an install already there is reused) and asked who it is, several at a time."""
    registry = load_registry()
    home = tmp_path_factory.mktemp("home")
    specs = [registry.resolve(name, variant) for name, variant in INSTALLS]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATIVO_CONNECTORS_DIR", str(SHARED_CONNECTORS))
        with ThreadPoolExecutor(INSTALL_WORKERS) as pool:
            results = list(pool.map(partial(_install_and_ask, home=home), specs))
    return dict(zip((s.name for s in specs), results, strict=True))


@pytest.fixture(scope="module")
def installed(answers: dict[str, Answer | Exception]) -> dict[str, ConnectorEnv]:
    return {name: a.env for name, a in answers.items() if isinstance(a, Answer)}


def _install_and_ask(spec: ConnectorSpec, home: Path) -> Answer | Exception:
    try:
        env = ensure_installed(spec, home)
    except Exception as exc:  # noqa: BLE001 - reported by the test of that connector
        return exc
    if spec.protocol == "airbyte":
        question = ("spec",)
    elif spec.has(Capability.ABOUT):
        question = ("--about", "--format", "json")
    else:
        question = ("--help",)
    argv = (str(env.executable(str(spec.executable))), *question)
    result = subprocess.run(argv, cwd=home, capture_output=True, text=True, timeout=300)
    return Answer(spec, env, argv, result.returncode, result.stdout, result.stderr)


def test_thirty_connectors_of_five_kinds_come_from_the_index():
    registry = load_registry()
    specs = [registry.resolve(name, variant) for name, variant in INSTALLS]
    assert len(specs) >= 30 and not any(registry.is_curated(s) for s in specs)
    kinds = {(s.type, s.protocol, s.has(Capability.ABOUT)) for s in specs}
    assert kinds == {
        ("source", "singer", True),
        ("source", "singer", False),
        ("target", "singer", True),
        ("target", "singer", False),
        ("mapper", "singer", True),
        ("source", "airbyte", False),
    }
    assert all("git+" not in (s.pip_url or "") for s in specs)


@pytest.mark.parametrize(("name", "variant"), INSTALLS, ids=[n for n, _ in INSTALLS])
def test_installed_by_name_and_answers(name, variant, answers):
    answer = answers[name]
    if isinstance(answer, Exception):
        raise answer
    assert answer.spec.variant == variant
    assert answer.returncode == 0, f"{' '.join(answer.argv)}:\n{answer.stderr[-3000:]}"
    if answer.argv[-1] == "spec":
        messages = [json.loads(line) for line in answer.stdout.splitlines() if line[:1] == "{"]
        spec_message = next(m for m in messages if m["type"] == "SPEC")
        assert spec_message["spec"]["connectionSpecification"]["type"] == "object"
    elif answer.argv[-1] == "json":
        about = json.loads(answer.stdout)
        assert about["name"] in (name, answer.spec.executable)
        assert "settings" in about
    else:
        usage = answer.stdout
        assert f"usage: {answer.spec.executable}" in usage and "-c CONFIG" in usage


def _run(argv: list[str], cwd: Path, stdin: bytes | None = None) -> str:
    result = subprocess.run(argv, cwd=cwd, input=stdin, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-3000:]
    return result.stdout.decode()


@pytest.fixture
def feed_url(tmp_path: Path) -> Iterator[str]:
    """An RSS feed served on 127.0.0.1."""
    (tmp_path / "feed.xml").write_text(FEED)
    with serve_folder(tmp_path) as root:
        yield f"{root}/feed.xml"


def _job(tmp_path: Path, name: str, source: dict, target: dict) -> Path:
    job = {"tenant_id": "index", "name": name, "source": source, "target": target}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(job))
    return path


def _singer_lines(folder: Path) -> list[dict]:
    files = sorted(folder.rglob("*.singer.gz"))
    assert files, f"nothing written under {folder}"
    return [json.loads(line) for f in files for line in gzip.open(f, "rt")]


def test_tap_feed_into_target_singer_jsonl_by_name(installed, dativo, tmp_path, feed_url):
    out = tmp_path / "out"
    job = _job(
        tmp_path,
        "feed",
        {"connector": "tap-feed", "config": {"feed_urls": [feed_url]}},
        {"connector": "target-singer-jsonl", "config": {"local": {"folder": str(out)}}},
    )
    first = dativo("run", job, timeout=300)
    assert first.returncode == 0, first.stderr
    records = [m["record"] for m in _singer_lines(out) if m["type"] == "RECORD"]
    assert [r["entry_title"] for r in records] == ["First", "Second"]
    state = json.loads(dativo("state", "get", "index/feed").stdout)
    assert state["bookmarks"]["feed"]["partitions"][0]["replication_key_value"].startswith(
        "2026-11-03"
    )


def test_an_sdk_tap_against_a_local_api_by_name(installed, dativo, env, tmp_path):
    """tap-jotform's API root is a setting: point it at canned answers on 127.0.0.1."""
    api = tmp_path / "api"
    reports = {
        "responseCode": 200,
        "limit-left": 999,
        "content": [
            {"id": "41", "form_id": "7", "title": "Weekly", "fields": "ip,dt", "list_type": "csv"},
            {"id": "42", "form_id": "7", "title": "Daily", "fields": "dt", "list_type": "grid"},
        ],
    }
    (api / "user").mkdir(parents=True)
    (api / "user" / "reports").write_text(json.dumps(reports))
    out = tmp_path / "out"
    with serve_folder(api) as root:
        job = _job(
            tmp_path,
            "jotform",
            {
                "connector": "tap-jotform",
                "config": {"api_url": root, "api_key": "${JOTFORM_API_KEY}"},
                "select": ["reports.*"],
            },
            {"connector": "target-singer-jsonl", "config": {"local": {"folder": str(out)}}},
        )
        result = dativo("run", job, env={**env, "JOTFORM_API_KEY": "local-key"}, timeout=300)
    assert result.returncode == 0, result.stderr
    got = [m["record"] for m in _singer_lines(out) if m["type"] == "RECORD"]
    assert [(r["id"], r["fields"]) for r in got] == [("41", ["ip", "dt"]), ("42", ["dt"])]


def test_airbyte_sources_into_index_targets(installed, dativo, tmp_path):
    out = tmp_path / "hardcoded"
    hardcoded = dativo(
        "run",
        _job(
            tmp_path,
            "hardcoded",
            {"connector": "source-hardcoded-records", "config": {"count": 25}},
            {"connector": "target-singer-jsonl", "config": {"local": {"folder": str(out)}}},
        ),
        timeout=300,
    )
    assert hardcoded.returncode == 0, hardcoded.stderr
    streams = Counter(m["stream"] for m in _singer_lines(out) if m["type"] == "RECORD")
    assert streams == {"customers": 25, "products": 25, "dummy_fields": 25}

    duckdb_file = tmp_path / "warehouse.duckdb"
    scenario = {
        "name": "orders",
        "json_schema": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "item": {"type": "string"}},
        },
        "records": [{"id": 1, "item": "pen"}, {"id": 2, "item": "ink"}, {"id": 3, "item": "pad"}],
        "primary_key": [["id"]],
    }
    smoke = dativo(
        "run",
        _job(
            tmp_path,
            "smoke",
            {
                "connector": "source-smoke-test",
                "config": {
                    "custom_scenarios": [scenario],
                    "all_fast_streams": False,
                    "all_slow_streams": False,
                },
                "select": ["orders"],
            },
            {
                "connector": "target-duckdb",
                "variant": "jwills",
                "config": {"filepath": str(duckdb_file), "default_target_schema": "landing"},
            },
        ),
        timeout=300,
    )
    assert smoke.returncode == 0, smoke.stderr
    rows = _run(
        [
            str(installed["target-duckdb"].executable("python")),
            "-c",
            "import duckdb, sys; print(duckdb.connect(sys.argv[1]).execute("
            "'select id, item from landing.orders order by id').fetchall())",
            str(duckdb_file),
        ],
        tmp_path,
    )
    assert rows.strip() == "[(1, 'pen'), (2, 'ink'), (3, 'pad')]"


def test_a_mapper_and_a_dry_run_target_by_hand(installed, tmp_path, feed_url):
    """tap-feed | meltano-map-transform | target-stitch --dry-run, as shell users pipe them."""
    tap_config = tmp_path / "tap.json"
    tap_config.write_text(json.dumps({"feed_urls": [feed_url]}))
    maps = {"stream_maps": {"feed": {"title_upper": "entry_title.upper()", "feed_url": None}}}
    mapper_config = tmp_path / "mapper.json"
    mapper_config.write_text(json.dumps(maps))
    stitch_config = tmp_path / "stitch.json"
    stitch_config.write_text(json.dumps({"client_id": 1, "token": "not-used-in-a-dry-run"}))
    tap = installed["tap-feed"].executable("tap-feed")
    mapper = installed["meltano-map-transformer"].executable("meltano-map-transform")
    target = installed["target-stitch"].executable("target-stitch")
    stream = _run([str(tap), "--config", str(tap_config)], tmp_path)
    mapped = _run([str(mapper), "--config", str(mapper_config)], tmp_path, stream.encode())
    records = [m["record"] for m in map(json.loads, mapped.splitlines()) if m["type"] == "RECORD"]
    assert [r["title_upper"] for r in records] == ["FIRST", "SECOND"]
    assert all("feed_url" not in r for r in records)
    requests = tmp_path / "requests.json"
    state = _run(
        [str(target), "--config", str(stitch_config), "--dry-run", "-o", str(requests)],
        tmp_path,
        mapped.encode(),
    )
    assert "bookmarks" in state and requests.stat().st_size > 0


def test_add_then_check_a_tap_that_really_connects(installed, dativo, env, tmp_path, feed_url):
    job = tmp_path / "added.yaml"
    added = dativo("add", "tap-feed", "--output", job)
    assert added.returncode == 0, added.stderr
    text = job.read_text()
    assert "feed_urls: null  # required, array" in text
    env = {**env, "TAP_FEED_FEED_ENTRY_REPLICATION_KEY": "published"}  # the Hub marks it secret
    unfilled = dativo("check", job, env=env, timeout=300)
    assert unfilled.returncode != 0  # feed_urls: null is not a config tap-feed accepts
    text = text.replace("feed_urls: null", f'feed_urls: ["{feed_url}"]')
    text = text.replace("destination_path: null", "destination_path: out")
    job.write_text(text)
    checked = dativo("check", job, env=env, timeout=300)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "PASS  source tap-feed: connection test passed" in checked.stdout
