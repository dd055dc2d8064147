"""Shared fixtures: apps on the embedded SQLite default and on PostGIS, clients, tokens.

PostGIS: a database ``geo_service_test_<pid>_<n>`` is created on ``GEO_SERVICE_TEST_PG``
(default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``) and dropped at the end.
When PostGIS cannot be reached the PostGIS-parametrised tests are skipped on a laptop and
FAIL under ``CI=true`` (the CI must test both backends).
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

IN_CI = os.environ.get("CI", "").lower() == "true"
# Servers started by tests skip the 91,000-row gazetteer unless a test asks for it (tests/*/test_places*).
os.environ.setdefault("GEO_SERVICE_LOAD_PLACES", "false")
PG_ADMIN_URL = os.environ.get("GEO_SERVICE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
_counter = itertools.count()
_pg_ok: bool | None = None


def need(condition: bool, reason: str) -> None:
    """Skip when ``condition`` is false on a laptop; fail under CI=true."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI but unavailable: {reason}")
    pytest.skip(reason)


def postgis_available() -> bool:
    """True when the admin URL answers and PostGIS is installable there."""
    global _pg_ok
    if _pg_ok is None:
        try:
            eng = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
            with eng.connect() as conn:
                n = conn.execute(text("SELECT count(*) FROM pg_available_extensions WHERE name='postgis'")).scalar()
            eng.dispose()
            _pg_ok = bool(n)
        except Exception:  # noqa: BLE001 - any failure means "not available"
            _pg_ok = False
    return _pg_ok


def create_pg_database() -> str:
    """Create an empty PostGIS database and return its URL."""
    need(postgis_available(), f"PostGIS not reachable at {PG_ADMIN_URL}")
    name = f"geo_service_test_{os.getpid()}_{next(_counter)}"
    eng = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    """Drop a test database (terminating its connections)."""
    name = make_url(url).database
    eng = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    eng.dispose()


def make_app(backend: str, tmp: Path, **overrides: Any) -> Any:
    """A fresh app on a fresh database of the given backend."""
    from geo_service.web.app import create_app

    config: dict[str, Any] = {"data_dir": str(tmp), "secret_key": "test-secret-key-0123456789", "testing": True,
                              "reload_interval_s": 0.0}
    if backend == "postgis":
        config["database_url"] = create_pg_database()
    config.update(overrides)
    app = create_app(config)
    app.config["_test_db_url"] = config.get("database_url")
    return app


def dispose_app(app: Any) -> None:
    """Close the app's connections and drop its PostGIS database."""
    app.extensions["geo_service"].storage.engine.dispose()
    url = app.config.get("_test_db_url")
    if url and url.startswith("postgresql"):
        drop_pg_database(url)


@pytest.fixture(scope="session", params=["sqlite", "postgis"])
def backend(request: pytest.FixtureRequest) -> str:
    """Both storage backends."""
    return request.param


@pytest.fixture(scope="session")
def app(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One app per backend for the whole session (tests must not publish on it; use fresh_app)."""
    application = make_app(backend, tmp_path_factory.mktemp(f"app-{backend}"))
    yield application
    dispose_app(application)


@pytest.fixture()
def fresh_app(backend: str, tmp_path: Path) -> Iterator[Any]:
    """A new app on a new database, for tests that publish or break things."""
    application = make_app(backend, tmp_path)
    yield application
    dispose_app(application)


@pytest.fixture()
def sqlite_app(tmp_path: Path) -> Iterator[Any]:
    """A new app on the embedded default only."""
    application = make_app("sqlite", tmp_path)
    yield application
    dispose_app(application)


def make_token(app: Any, role: str, *, unit: str | None = None, expires_at: Any = None, name: str | None = None) -> str:
    """Create a token directly in the app's database."""
    from geo_service.storage import repo

    storage = app.extensions["geo_service"].storage
    with storage.transaction() as session:
        _row, clear = repo.create_token(session, name=name or f"test-{role}", role=role, unit_code=unit,
                                        expires_at=expires_at)
    return clear


@pytest.fixture(scope="session")
def tokens_for() -> Callable[[Any], dict[str, str]]:
    """tokens_for(app) -> {role: token}, cached per app."""
    cache: dict[int, dict[str, str]] = {}

    def get(application: Any) -> dict[str, str]:
        key = id(application)
        if key not in cache:
            cache[key] = {r: make_token(application, r) for r in ("admin", "supervisor", "dispatcher", "officer")}
        return cache[key]

    return get


@pytest.fixture()
def client(app: Any) -> Any:
    """Test client of the shared app."""
    return app.test_client()


@pytest.fixture()
def auth(app: Any, tokens_for: Callable[[Any], dict[str, str]]) -> Callable[[str], dict[str, str]]:
    """auth(role) -> Authorization header for the shared app."""
    toks = tokens_for(app)
    return lambda role="dispatcher": {"Authorization": f"Bearer {toks[role]}"}


def page_csrf(client: Any, path: str = "/login") -> str:
    """The CSRF token a page form carries (what a browser would send back)."""
    import html
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return html.unescape(found.group(1))


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Folder for screenshots and other test artifacts (kept by CI)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def chromium_path() -> str | None:
    """The Debian chromium binary, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")
