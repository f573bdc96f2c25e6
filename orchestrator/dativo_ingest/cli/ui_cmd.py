"""``dativo ui``: serve the read-only web page of jobs, runs and states."""

from __future__ import annotations

import argparse
import os
import secrets

from dativo_ingest.exceptions import ConfigurationError
from dativo_ingest.logs import get_logger

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
TOKEN_ENV = "DATIVO_UI_TOKEN"
log = get_logger("ui")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("ui", help="serve a read-only web page of jobs, runs and states")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument("--port", type=int, default=8765, help="default: %(default)s")
    parser.set_defaults(handler=serve)


def serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from dativo_ingest.ui.app import create_app
    except ImportError as exc:
        raise ConfigurationError(
            f"dativo ui needs the `ui` extra ({exc.name} is missing): "
            "pip install 'dativo-ingest[ui]'"
        ) from None
    from dativo_ingest.state import open_store

    token = os.environ.get(TOKEN_ENV) or None
    if args.host not in LOCAL_HOSTS and token is None:
        token = secrets.token_urlsafe(24)
    store = open_store()
    query = f"/?token={token}" if token else "/"
    host = f"[{args.host}]" if ":" in args.host else args.host
    log.info(
        "serving the runs of %s on http://%s:%d%s",
        getattr(store, "path", "the store"),
        host,
        args.port,
        query,
    )
    try:
        uvicorn.run(
            create_app(store, token),
            host=args.host,
            port=args.port,
            log_level="warning",
            access_log=False,  # a first request's URL carries the token
        )
    finally:
        store.close()
    return 0
