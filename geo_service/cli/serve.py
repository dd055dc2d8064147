"""Sub-command ``geo-service serve``: gunicorn with the app preloaded."""

from __future__ import annotations

import argparse
import os
from typing import Any

from geo_service.config import DEFAULT_THREADS, default_workers
from geo_service.errors import ConfigError

#: gunicorn settings of ``geo-service serve`` (besides bind, workers and the hooks).
SERVER_SETTINGS: dict[str, Any] = {
    "preload_app": True,
    "timeout": 120,
    "graceful_timeout": 10,
    "keepalive": 5,  # seconds an idle kept-alive connection waits in the poller (no thread held)
    "worker_connections": 1000,  # open connections per worker (idle ones cost no thread)
    "limit_request_line": 8190,
    "limit_request_fields": 100,
    "limit_request_field_size": 8190,
    "accesslog": None,
}


def cmd_serve(args: argparse.Namespace) -> int:
    """Start gunicorn with the app preloaded (index built once, shared copy-on-write)."""
    import gc

    from gunicorn.app.base import BaseApplication

    workers = args.workers or int(os.environ.get("GEO_SERVICE_WORKERS", 0) or default_workers())
    threads = args.threads or int(os.environ.get("GEO_SERVICE_THREADS", 0) or DEFAULT_THREADS)
    # What the app sizes by the server it runs in (the long-poll cap, made when web/ is imported) reads these.
    os.environ["GEO_SERVICE_WORKERS"], os.environ["GEO_SERVICE_THREADS"] = str(workers), str(threads)

    from geo_service.web.app import create_app
    from geo_service.web.server import DEFAULT_READ_TIMEOUT_S, worker_class

    read_timeout_s = float(os.environ.get("GEO_SERVICE_REQUEST_READ_TIMEOUT_S", 0) or DEFAULT_READ_TIMEOUT_S)
    if workers < 1 or threads < 1 or read_timeout_s <= 0:
        raise ConfigError("GEO_SERVICE_WORKERS, GEO_SERVICE_THREADS and GEO_SERVICE_REQUEST_READ_TIMEOUT_S "
                          "must be positive")
    app = create_app()  # raises ConfigError before any worker starts
    app.extensions["geo_service"].places.gazetteer()  # built once too, shared by the workers
    # Move everything built so far (the index) out of the collector's reach, so that collections
    # in the workers do not write to the shared pages and copy them (measured: 19 -> 63 MB per worker).
    gc.collect()
    gc.freeze()

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            # gthread with a deadline on reading each request (geo_service/web/server.py).
            self.cfg.set("worker_class", worker_class(read_timeout_s))
            for key, value in SERVER_SETTINGS.items():
                self.cfg.set(key, value)
            self.cfg.set("post_fork", _post_fork)

        def load(self) -> Any:
            return app

    def _post_fork(_server: Any, _worker: Any) -> None:
        # Connections must not be shared across processes: each worker opens its own.
        app.extensions["geo_service"].storage.dispose()

    print(f"geo_service listening on http://{args.host}:{args.port} ({workers} workers x {threads} threads, "
          f"{app.extensions['geo_service'].settings.backend})", flush=True)
    _Server().run()
    return 0


def register(subparsers: Any) -> None:
    """Add the ``serve`` command."""
    p = subparsers.add_parser("serve", help="start the HTTP service (gunicorn)")
    p.add_argument("--host", default=os.environ.get("GEO_SERVICE_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("GEO_SERVICE_PORT", "8000")))
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help=f"threads per worker (default {DEFAULT_THREADS})")
    p.set_defaults(func=cmd_serve)
