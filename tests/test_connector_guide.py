"""The connector guide is true: its HTTP API example (docs/examples/http_api_extractor.py, as
the guide prints it) type-checks with mypy against the kit, and the unit tests its "Add Tests"
step shows pass as written, with ``SourceConfig`` built in one call."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from dativo_connector_kit.native import IncrementalStateManager, MemoryBookmarks, SourceConfig
from tests.test_native_connector import API_KEY
from tests.test_native_connector import api as api  # the fake API server fixture

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "http_api_extractor.py"
spec = importlib.util.spec_from_file_location("http_api_extractor", EXAMPLE)
assert spec is not None and spec.loader is not None
example = importlib.util.module_from_spec(spec)
spec.loader.exec_module(example)
HttpApiExtractor = example.HttpApiExtractor


def test_the_guides_example_and_the_http_api_connector_type_check(tmp_path: Path) -> None:
    tap = ROOT / "taps" / "tap-http-api" / "dativo_http_api"
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path), str(EXAMPLE), str(tap)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_extractor_initialization(api: str) -> None:
    config = SourceConfig(connection={"endpoint": api, "api_key": API_KEY})
    extractor = HttpApiExtractor(config)
    assert extractor is not None


def test_connection_check(api: str) -> None:
    config = SourceConfig(connection={"endpoint": api, "api_key": API_KEY})
    extractor = HttpApiExtractor(config)
    result = extractor.check_connection()
    assert result["success"] is True


def test_discover(api: str) -> None:
    config = SourceConfig(connection={"endpoint": api, "api_key": API_KEY}, tenant_id="acme")
    extractor = HttpApiExtractor(config)
    result = extractor.discover()
    assert "objects" in result
    assert [obj["name"] for obj in result["objects"]] == ["tickets"]


def test_extract_with_an_in_memory_state_manager(api: str) -> None:
    config = SourceConfig(
        connection={"endpoint": api, "api_key": API_KEY}, tenant_id="acme", object="tickets"
    )
    bookmarks = MemoryBookmarks()
    extractor = HttpApiExtractor(config, IncrementalStateManager(bookmarks))
    pages = list(extractor.extract())
    assert [len(page) for page in pages] == [25]  # the guide's example asks 100 a page
    assert extractor.state_manager.get_state("acme", "http_api", "tickets") == {}
    extractor.state_manager.update_state("acme", "http_api", "tickets", {"last": "x"})
    assert bookmarks.bookmarks == {"acme/http_api/tickets": {"last": "x"}}
