"""The ASGI app: GET-only pages rendered on the server from Jinja2 templates, behind a token
when one is set."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from markupsafe import Markup
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from dativo_ingest.pipeline.progress import human_bytes
from dativo_ingest.state import StateStore
from dativo_ingest.ui import views

TOKEN_COOKIE = "dativo_ui_token"
_templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
_templates.env.filters["bytes"] = lambda n: human_bytes(n) if n else "-"
_templates.env.filters["when"] = lambda iso: iso[:19].replace("T", " ") if iso else "-"
_templates.env.filters["seconds"] = lambda s: "-" if s is None else f"{s:.2f}s"
_templates.env.filters["count"] = lambda n: "-" if n is None else f"{n:,}"
_templates.env.filters["safe_svg"] = Markup  # sparklines are built from numbers only


class _TokenRequired(BaseHTTPMiddleware):
    """Every request carries the token: ``?token=`` once (then a cookie), or a bearer header."""

    def __init__(self, app: Any, token: str) -> None:
        super().__init__(app)
        self.token = token

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        offered = request.query_params.get("token")
        if offered is not None and self._matches(offered):
            response = RedirectResponse(request.url.remove_query_params("token"), 303)
            response.set_cookie(TOKEN_COOKIE, offered, httponly=True, samesite="strict")
            return response
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if self._matches(request.cookies.get(TOKEN_COOKIE, "")) or self._matches(bearer):
            return await call_next(request)
        return PlainTextResponse("a token is required: open the URL `dativo ui` printed", 401)

    def _matches(self, offered: str) -> bool:
        return secrets.compare_digest(offered.encode(), self.token.encode())


def create_app(store: StateStore, token: str | None = None) -> Starlette:
    """The read-only UI over ``store``; with ``token``, requests without it get 401."""

    def page(request: Request, name: str, **context: Any) -> Response:
        now = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")
        return _templates.TemplateResponse(request, name, {"now": now, **context})

    def jobs_page(request: Request) -> Response:
        return page(request, "jobs.html", jobs=views.jobs(store))

    def job_page(request: Request) -> Response:
        state_id = _state_id(request)
        summary = views.job(store, state_id)
        if not summary.runs and summary.state is None:
            return PlainTextResponse(f"no job {state_id}", 404)
        state = views.state_json(summary.state) if summary.state else None
        return page(request, "job.html", job=summary, state_json=state)

    def run_page(request: Request) -> Response:
        state_id, run_id = _state_id(request), request.path_params["run_id"]
        run = views.find_run(store, state_id, run_id)
        if run is None:
            return PlainTextResponse(f"no run {run_id} of {state_id}", 404)
        return page(request, "run.html", run=run, log=views.log_entries(run))

    def states_page(request: Request) -> Response:
        states = [(s, views.state_json(s)) for s in store.list_states()]
        return page(request, "states.html", states=states)

    routes = [
        Route("/", jobs_page),
        Route("/jobs/{tenant}/{name}", job_page),
        Route("/jobs/{tenant}/{name}/runs/{run_id}", run_page),
        Route("/states", states_page),
    ]
    middleware = [Middleware(_TokenRequired, token=token)] if token else []
    return Starlette(routes=routes, middleware=middleware)


def _state_id(request: Request) -> str:
    return f"{request.path_params['tenant']}/{request.path_params['name']}"
