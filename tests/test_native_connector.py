"""A native connector (the guide's HTTP API extractor) run by dativo against a real local
HTTP server: discovery, records, checkpoints, resumption, connection check."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

API_KEY = "native-key-2718"
SCHEMA = {
    "endpoints": [
        {
            "name": "tickets",
            "key_properties": ["id"],
            "schema": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "title": {"type": "string"},
                    "updated_at": {"type": "string", "format": "date-time"},
                },
            },
        }
    ]
}


class FakeApi(BaseHTTPRequestHandler):
    tickets: ClassVar[list[dict]] = []
    requests: ClassVar[list[dict]] = []

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.requests.append({"path": url.path, **query})
        if self.headers.get("Authorization") != f"Bearer {API_KEY}":
            return self._send(401, {"error": "bad key"})
        if url.path == "/health":
            return self._send(200, {"ok": True})
        if url.path == "/schema":
            return self._send(200, SCHEMA)
        rows = [t for t in self.tickets if t["updated_at"] > query.get("since", "")]
        page, size = int(query["page"]), int(query["per_page"])
        return self._send(200, {"items": rows[(page - 1) * size : page * size]})

    def _send(self, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def api() -> Iterator[str]:
    FakeApi.tickets = [
        {"id": i, "title": f"ticket {i}", "updated_at": f"2026-01-{i:02d}T00:00:00Z"}
        for i in range(1, 26)
    ]
    FakeApi.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def job_file(tmp_path: Path, endpoint: str, api_key: str = API_KEY) -> Path:
    job = {
        "tenant_id": "acme",
        "name": "tickets",
        "source": {
            "connector": "http-api",
            "config": {
                "endpoint": endpoint,
                "api_key": api_key,
                "object": "tickets",
                "per_page": 10,
            },
        },
        "target": {
            "connector": "target-jsonl",
            "config": {"destination_path": str(tmp_path / "out")},
        },
    }
    path = tmp_path / f"job-{api_key[:3]}.yaml"
    path.write_text(yaml.safe_dump(job))
    return path


def landed(folder: Path) -> list[dict]:
    rows = []
    for file in sorted(folder.glob("tickets*.jsonl")):
        rows += [json.loads(line) for line in file.read_text().splitlines()]
    return rows


def test_native_connector_runs_checkpoints_and_resumes(tmp_path, api, dativo):
    job = job_file(tmp_path, api)
    first = dativo("run", job, timeout=600)
    assert first.returncode == 0, first.stderr
    assert sorted(r["id"] for r in landed(tmp_path / "out")) == list(range(1, 26))
    state = json.loads(dativo("state", "get", "acme/tickets").stdout)
    assert state == {
        "bookmarks": {"acme/http_api/tickets": {"last_sync_timestamp": "2026-01-25T00:00:00Z"}}
    }
    assert first.stderr.count('"type":"STATE"') == 0  # states travel on stdout, not the log

    FakeApi.tickets.append({"id": 26, "title": "new", "updated_at": "2026-02-01T00:00:00Z"})
    FakeApi.requests.clear()
    second = dativo("run", job)
    assert second.returncode == 0, second.stderr
    assert [r["id"] for r in landed(tmp_path / "out")][25:] == [26]
    data_requests = [r for r in FakeApi.requests if r["path"] == "/data"]
    assert data_requests[0]["since"] == "2026-01-25T00:00:00Z"


def test_native_connector_checkpoints_after_every_page(tmp_path, api, dativo):
    job = yaml.safe_load(job_file(tmp_path, api).read_text())
    job["target"] = {"executable": str(Path(__file__).parent / "programs" / "fake_target.py")}
    (tmp_path / "echo.yaml").write_text(yaml.safe_dump(job))
    result = dativo("run", tmp_path / "echo.yaml", timeout=600)
    assert result.returncode == 0, result.stderr
    run = json.loads(dativo("runs", "--json", "--limit", "1").stdout)[0]
    assert run["records"] == 25
    assert run["states_saved"] == 4  # pages of 10, 10 and 5 records, then the final STATE


def test_native_connector_connection_check(tmp_path, api, dativo):
    ok = dativo("check", job_file(tmp_path, api), timeout=600)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "PASS  source http-api" in ok.stdout
    assert "dativo-native: API accessible" in ok.stdout  # check_connection()'s message
    bad = dativo("check", job_file(tmp_path, api, "wrong-key-1"))
    assert bad.returncode == 1 and "FAIL  source http-api" in bad.stdout
    assert "invalid API key" in bad.stdout and "wrong-key-1" not in bad.stdout
