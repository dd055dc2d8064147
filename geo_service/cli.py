"""The ``geo-service`` command line. Every command calls the same services as the HTTP API.

Configuration errors print one line (``geo-service: error: ...``) and exit with status 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from geo_service.errors import ConfigError, GeoServiceError

LOGGER = logging.getLogger(__name__)
Handler = Callable[[argparse.Namespace], int]


def _settings_and_storage(migrate: bool = True) -> tuple[Any, Any]:
    from geo_service.config import load_settings
    from geo_service.storage import db
    from geo_service.storage.db import Storage

    settings = load_settings()
    storage = Storage(settings.database_url, settings.backend)
    db.check_connection(storage.engine, settings.backend)
    if migrate:
        db.upgrade(storage.engine)
    return settings, storage


# ------------------------------------------------------------------ serve


def default_workers() -> int:
    """Worker processes: 2 per core, at least 2 (CPU-bound lookups, short requests)."""
    return max(2, 2 * (os.cpu_count() or 1))


#: Threads per gthread worker (``GEO_SERVICE_THREADS``). A client that drips its headers or body
#: holds one thread, not a whole worker process: with sync workers six slow clients stopped the
#: service (issue 12). Lookups are CPU-bound under the GIL, so more threads add room for slow
#: clients, not speed; behind nginx (request buffering on) no slow client reaches the service.
DEFAULT_THREADS = 16
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

    from geo_service.web.app import create_app
    from geo_service.web.server import DEFAULT_READ_TIMEOUT_S, worker_class

    app = create_app()  # raises ConfigError before any worker starts
    app.extensions["geo_service"].places.gazetteer()  # built once too, shared by the workers
    # Move everything built so far (the index) out of the collector's reach, so that collections
    # in the workers do not write to the shared pages and copy them (measured: 19 -> 63 MB per worker).
    gc.collect()
    gc.freeze()
    workers = args.workers or int(os.environ.get("GEO_SERVICE_WORKERS", 0) or default_workers())
    threads = args.threads or int(os.environ.get("GEO_SERVICE_THREADS", 0) or DEFAULT_THREADS)
    read_timeout_s = float(os.environ.get("GEO_SERVICE_REQUEST_READ_TIMEOUT_S", 0) or DEFAULT_READ_TIMEOUT_S)
    if workers < 1 or threads < 1 or read_timeout_s <= 0:
        raise ConfigError("GEO_SERVICE_WORKERS, GEO_SERVICE_THREADS and GEO_SERVICE_REQUEST_READ_TIMEOUT_S "
                          "must be positive")

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


# ------------------------------------------------------------------ db


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    """Run the migrations."""
    from geo_service.storage import db

    settings, storage = _settings_and_storage(migrate=False)
    db.upgrade(storage.engine)
    print(f"database at revision {db.current_revision(storage.engine)} ({settings.backend})")
    return 0


# ------------------------------------------------------------------ tokens


def cmd_token_create(args: argparse.Namespace) -> int:
    """Create a bearer token; prints it as the last line (only its hash is stored)."""
    from geo_service.storage import repo
    from geo_service.storage.types import utcnow

    _settings, storage = _settings_and_storage()
    expires = utcnow() + timedelta(days=args.expires_days) if args.expires_days else None
    with storage.transaction() as session:
        row, clear = repo.create_token(session, name=args.name, role=args.role, unit_code=args.unit,
                                       expires_at=expires, created_by="cli")
        token_id = row.id
    print(f"token {token_id} for {args.name!r} ({args.role}{', unit ' + args.unit if args.unit else ''})"
          f"{', expires ' + expires.isoformat() if expires else ''}:", file=sys.stderr)
    print(clear)
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    """Revoke a token by id."""
    from geo_service.services import accounts

    _settings, storage = _settings_and_storage()
    with storage.transaction() as session:
        accounts.revoke_token(session, args.id, actor="cli")
    print(f"token {args.id} revoked")
    return 0


def cmd_user_create(args: argparse.Namespace) -> int:
    """Create a page user; the password comes from stdin (one line) or a prompt."""
    import getpass

    from geo_service.services import accounts

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("password: ")
    _settings, storage = _settings_and_storage()
    with storage.transaction() as session:
        user = accounts.create_user(session, username=args.username, password=password, role=args.role,
                                    unit_code=args.unit, actor="cli")
        print(f"user {user.username} ({user.role}) created")
    return 0


# ------------------------------------------------------------------ parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(prog="geo-service", description="geo_service command line")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="start the HTTP service (gunicorn)")
    p.add_argument("--host", default=os.environ.get("GEO_SERVICE_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("GEO_SERVICE_PORT", "8000")))
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help=f"threads per worker (default {DEFAULT_THREADS})")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("db", help="database commands")
    dsub = p.add_subparsers(dest="db_command", required=True)
    d = dsub.add_parser("upgrade", help="run the migrations")
    d.set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser("token", help="API tokens")
    tsub = p.add_subparsers(dest="token_command", required=True)
    t = tsub.add_parser("create", help="create a bearer token (printed as the last line)")
    t.add_argument("--role", required=True, choices=["admin", "supervisor", "dispatcher", "officer"])
    t.add_argument("--name", required=True)
    t.add_argument("--unit", default=None, help="unit code the token is scoped to (supervisor/officer)")
    t.add_argument("--expires-days", type=float, default=None)
    t.set_defaults(func=cmd_token_create)
    t = tsub.add_parser("revoke", help="revoke a token")
    t.add_argument("id", type=int)
    t.set_defaults(func=cmd_token_revoke)

    p = sub.add_parser("user", help="page users")
    usub = p.add_subparsers(dest="user_command", required=True)
    u = usub.add_parser("create", help="create a page user (password hashed with argon2id)")
    u.add_argument("--username", required=True)
    u.add_argument("--role", required=True, choices=["admin", "supervisor", "dispatcher", "officer"])
    u.add_argument("--unit", default=None)
    u.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    u.set_defaults(func=cmd_user_create)

    for register in _EXTRA_COMMANDS:
        register(sub)
    return parser


#: Feature modules add their sub-commands here (coords, locate, boundaries, incidents, users).
_EXTRA_COMMANDS: list[Callable[[Any], None]] = []


def _load_extra_commands() -> None:
    import importlib

    if _EXTRA_COMMANDS:
        return  # loaded once per process (main() may be called again in-process)
    for name in ("geo_service.cli_coords", "geo_service.cli_boundaries", "geo_service.cli_national",
                 "geo_service.cli_incidents", "geo_service.cli_places", "geo_service.cli_calls"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        _EXTRA_COMMANDS.append(module.register)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    logging.basicConfig(level=os.environ.get("GEO_SERVICE_LOG_LEVEL", "WARNING").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _load_extra_commands()
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"geo-service: error: {exc.detail}", file=sys.stderr)
        return 2
    except GeoServiceError as exc:
        print(f"geo-service: {exc.code}: {exc.detail}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def register_flask_commands(app: Any) -> None:
    """``flask --app geo_service geo ARGS`` runs the same commands as ``geo-service ARGS``."""
    import click

    @app.cli.command("geo", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    @click.argument("argv", nargs=-1, type=click.UNPROCESSED)
    def _geo(argv: tuple[str, ...]) -> None:
        raise SystemExit(main(list(argv)))


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["main", "build_parser", "Path"]
