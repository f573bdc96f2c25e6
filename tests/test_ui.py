"""``dativo ui`` in a real browser (Debian's chromium driven by Playwright), its token, and
that it never shows a secret."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import DATIVO

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = os.environ.get("DATIVO_UI_SCREENSHOTS")  # a folder: keep them (docs/ui.md)
STATE_TOKEN = "tok-9f8e7d6c"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def history(tmp_path, connector_exe, write_job, dativo) -> Path:
    """Two demo runs (tap-csv -> target-jsonl), a failed run, a state holding a token."""
    job = yaml.safe_load((REPO / "jobs" / "demo" / "csv_to_jsonl.yaml").read_text())
    for entry in job["source"]["config"]["files"]:
        entry["path"] = str(REPO / entry["path"])
    for side, name in (("source", "tap-csv"), ("target", "target-jsonl")):
        del job[side]["connector"]  # the installed program, by path
        job[side]["executable"] = connector_exe(name)
    job["target"]["config"]["destination_path"] = str(tmp_path / "out")
    demo = tmp_path / "demo.yaml"
    demo.write_text(yaml.safe_dump(job))
    for args in (["run", demo], ["run", demo, "--full-refresh"]):
        assert dativo(*args).returncode == 0
    failing = write_job(source={"records": 500, "fail_after": 120}, name="orders")
    assert dativo("run", failing).returncode == 1
    state = tmp_path / "state.json"
    state.write_text(f'{{"bookmarks": {{"x": 1}}, "api_token": "{STATE_TOKEN}"}}')
    assert dativo("state", "set", "acme/orders", state).returncode == 0
    return tmp_path


@pytest.fixture
def serve(env, tmp_path) -> Iterator[Callable[..., str]]:
    """Start ``dativo ui`` on a free port; returns its base URL."""
    servers: list[subprocess.Popen[bytes]] = []
    log = tmp_path / "ui.log"

    def start(*args: str, extra_env: dict[str, str] | None = None) -> str:
        port = free_port()
        with log.open("ab") as stderr:
            server = subprocess.Popen(
                [DATIVO, "ui", "--port", str(port), *args],
                env={**env, **(extra_env or {})},
                cwd=tmp_path,
                stderr=stderr,
            )
        servers.append(server)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    return f"http://127.0.0.1:{port}"
            assert server.poll() is None, log.read_text()
            time.sleep(0.1)
        raise AssertionError(f"dativo ui did not start listening: {log.read_text()}")

    yield start
    for server in servers:
        server.terminate()
        server.wait(10)


def status_of(request: str | urllib.request.Request, opener=urllib.request.urlopen) -> tuple:
    """``(status, final URL, body)`` of a GET."""
    try:
        with opener(request, timeout=10) as response:
            return response.status, response.url, response.read()
    except urllib.error.HTTPError as refused:
        with refused:
            return refused.code, refused.url, refused.read()


def not_blank(png: bytes) -> bool:
    """True when the PNG screenshot shows more than an empty page."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    data, at = b"", 8
    while at < len(png):
        length = int.from_bytes(png[at : at + 4], "big")
        if png[at + 4 : at + 8] == b"IDAT":
            data += png[at + 8 : at + 8 + length]
        at += 12 + length
    rows = zlib.decompress(data)  # filtered rows: an even area is zeros, drawn text is not
    drawn = len(rows) - rows.count(0)
    return len(set(rows)) > 64 and drawn > 0.001 * len(rows)  # a blank page: 4 values, 0.03%


def test_a_browser_follows_a_job_to_its_runs_and_sees_counts_and_errors(
    history, serve, require_component
):
    require_component(Path(CHROMIUM).exists(), "chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    base = serve()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(base + "/")
        assert page.locator("#jobs a.job").all_inner_texts() == ["acme/orders", "demo/csv_to_jsonl"]
        shots = [("ui-jobs.png", page.screenshot(full_page=True))]

        page.click("text=demo/csv_to_jsonl")
        assert page.locator("#runs a.run").count() == 2
        assert page.locator("svg.spark").count() == 2
        page.locator("#runs a.run").first.click()  # the latest: a full refresh
        assert page.inner_text("#status") == "succeeded"
        assert page.inner_text("#records") == "70"
        streams = page.locator("#streams td").all_inner_texts()
        assert streams == ["customers", "20", "orders", "50"]
        assert "tap-csv" in page.inner_text("#connectors")
        assert "succeeded in" in page.inner_text("#log")
        shots.append(("ui-run.png", page.screenshot(full_page=True)))

        page.goto(base + "/")
        page.click("text=acme/orders")
        assert STATE_TOKEN not in page.content() and '"api_token": "***"' in page.inner_text(
            "#state"
        )
        page.locator("#runs a.run").first.click()
        assert page.inner_text("#status") == "failed"
        assert "fake_tap.py failed with exit code 3" in page.inner_text("#error")
        assert "simulated failure after 120 records" in page.inner_text("#error")
        shots.append(("ui-failed-run.png", page.screenshot(full_page=True)))
        page.goto(base + "/states")
        assert STATE_TOKEN not in page.content()
        browser.close()
    for name, png in shots:
        assert not_blank(png), name
        if SCREENSHOTS:
            Path(SCREENSHOTS, name).write_bytes(png)


def test_beyond_localhost_the_page_needs_the_token(serve):
    base = serve("--host", "0.0.0.0", extra_env={"DATIVO_UI_TOKEN": "ui-token-123"})
    assert status_of(base + "/")[0] == 401
    assert status_of(base + "/states?token=nope")[0] == 401
    wrong = urllib.request.Request(base + "/", headers={"Authorization": "Bearer nope"})
    assert status_of(wrong)[0] == 401
    right = urllib.request.Request(base + "/", headers={"Authorization": "Bearer ui-token-123"})
    code, _, body = status_of(right)
    assert code == 200 and b"No runs recorded yet" in body
    # ?token= once sets a cookie and drops the token from the address
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor()).open
    code, url, body = status_of(base + "/states?token=ui-token-123", opener)
    assert (code, url) == (200, base + "/states") and b"no states saved" in body
    assert status_of(base + "/", opener)[0] == 200


def test_a_token_is_made_up_when_bound_beyond_localhost_without_one(serve, env):
    env.pop("DATIVO_UI_TOKEN", None)
    assert status_of(serve("--host", "0.0.0.0") + "/")[0] == 401


def test_a_running_runs_page_reloads_itself_and_shows_its_log_so_far(serve, write_job, env):
    job = write_job(source={"records": 40, "sleep_after": 20, "sleep_seconds": 2.5})
    base = serve()
    run = subprocess.Popen([DATIVO, "run", str(job)], env=env, stderr=subprocess.DEVNULL)
    try:
        deadline, page = time.monotonic() + 10, b""
        while b"/runs/" not in page and time.monotonic() < deadline:
            page = status_of(base + "/jobs/acme/job")[2]
            time.sleep(0.1)
        run_url = base + re.search(rb'href="(/jobs/acme/job/runs/[^"]+)"', page)[1].decode()
        code, _, body = status_of(run_url)
        assert code == 200 and b'<meta http-equiv="refresh" content="2">' in body
        assert b'id="status">running<' in body and b"fake_tap.py -&gt; fake_target.py" in body
    finally:
        assert run.wait(30) == 0
    code, _, body = status_of(run_url)
    assert b"refresh" not in body and b'id="status">succeeded<' in body
