"""A scripted HTTP API on loopback, and helpers to run the real ``tap-rest`` against it.

The server runs in a thread of the test process (``ThreadingHTTPServer`` on an ephemeral
port). Each path is answered by a handler function; every request is recorded with its
headers, query parameters and arrival time, so tests can assert on what the tap sent and when.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest


@dataclass
class Seen:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    at: float  # time.monotonic() on arrival


#: What a handler answers: a JSON body (or raw bytes), ``(status, body)`` or
#: ``(status, body, headers)``.
Reply = Any
Handler = Callable[[Seen], Reply]


def _normalise(reply: Reply) -> tuple[int, bytes, dict[str, str]]:
    status, body, headers = 200, reply, {}
    if isinstance(reply, tuple):
        status, body, *rest = reply
        headers = rest[0] if rest else {}
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    return status, payload, {"Content-Type": "application/json", **headers}


class ScriptedAPI:
    """A loopback HTTP server answering each path with its handler (404 otherwise)."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.seen: list[Seen] = []
        self.handler_errors: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.handle_error = lambda request, address: None  # clients may hang up
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def config(self, *streams: dict, **settings: Any) -> dict:
        """A tap config for this server, with short retry waits unless ``settings`` say."""
        return {
            "api_url": self.url,
            "streams": list(streams),
            "max_retries": 2,
            "backoff_factor": 0.05,
            "backoff_max": 5,
            **settings,
        }

    @staticmethod
    def sequence(*replies: Reply) -> Handler:
        """A handler answering with ``replies`` in turn, then repeating the last one."""
        remaining = list(replies)

        def answer(seen: Seen) -> Reply:
            return remaining.pop(0) if len(remaining) > 1 else remaining[0]

        return answer

    def requests_to(self, path: str) -> list[Seen]:
        with self._lock:
            return [seen for seen in self.seen if seen.path == path]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _answer(self, seen: Seen) -> tuple[int, bytes, dict[str, str]]:
        with self._lock:
            self.seen.append(seen)
        handler = self.routes.get(seen.path)
        if handler is None:
            return _normalise((404, {"error": "no such path"}))
        try:
            return _normalise(handler(seen))
        except Exception as exc:  # noqa: BLE001 - a broken test handler: fail the test later
            self.handler_errors.append(f"{seen.path}: {exc!r}")
            return _normalise((500, {"error": "test handler failed"}))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                seen = Seen(
                    method="GET",
                    path=url.path,
                    query=dict(parse_qsl(url.query, keep_blank_values=True)),
                    headers={name.lower(): value for name, value in self.headers.items()},
                    at=time.monotonic(),
                )
                status, payload, headers = api._answer(seen)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def api() -> Iterator[ScriptedAPI]:
    server = ScriptedAPI()
    yield server
    server.close()
    assert not server.handler_errors, server.handler_errors


@pytest.fixture
def tap(connector_exe) -> str:
    return connector_exe("tap-rest")


@dataclass
class Run:
    """A finished tap run: exit code, stdout, stderr and wall time."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    @property
    def catalog(self) -> dict[str, Any]:
        return json.loads(self.stdout)

    def records(self, stream: str | None = None) -> list[dict[str, Any]]:
        return [
            m["record"]
            for m in self.messages
            if m["type"] == "RECORD" and stream in (None, m["stream"])
        ]

    def states(self) -> list[dict[str, Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]


def write_json(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value))
    return path


@pytest.fixture
def run_tap(tap: str, tmp_path: Path) -> Callable[..., Run]:
    """Run ``tap-rest --config <config> [args]``; ``state``/``catalog`` dicts become files."""

    def run(config: dict, *args: str, state: dict | None = None, catalog: dict | None = None):
        command = [tap, "--config", str(write_json(tmp_path / "tap.json", config)), *args]
        if state is not None:
            command += ["--state", str(write_json(tmp_path / "state.json", state))]
        if catalog is not None:
            command += ["--catalog", str(write_json(tmp_path / "catalog.json", catalog))]
        started = time.monotonic()
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        seconds = time.monotonic() - started
        return Run(result.returncode, result.stdout, result.stderr, seconds)

    return run
