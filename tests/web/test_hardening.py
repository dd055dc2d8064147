"""Hardening (issue 7): rate limits (in-process and shared through Redis), request size limits on
every route, security headers and CSP, no stack traces to clients, the audit log, tokens hashed
at rest, and the reach of the coordinate-parser fuzz test."""

from __future__ import annotations

import importlib.util
import inspect
import random
import re
import socket
import sys
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from geo_service.services import ratelimit
from geo_service.storage import repo
from geo_service.storage.models import AuditLog
from geo_service.storage.types import utcnow
from tests.conftest import dispose_app, make_app, make_token, need, page_csrf

REDIS_URL = "redis://127.0.0.1:6379/15"
TILE_URL = "https://tiles.example.test/{z}/{x}/{y}.png"
LOGIN_LIMIT = 10  # per address and minute (pages.login)
OFFICER_LIMIT = 120  # per address and minute (pages.officer_page)


def _with_accounts(application: Any) -> Any:
    if "accounts_api" not in application.blueprints:
        from geo_service.web.accounts_api import bp

        application.register_blueprint(bp)
    return application


@pytest.fixture(scope="module")
def happ(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A dedicated app with a small request limit and a tile host of its own."""
    application = _with_accounts(make_app(backend, tmp_path_factory.mktemp(f"hardening-{backend}"),
                                          max_request_bytes=16 * 1024, tile_url=TILE_URL))
    yield application
    dispose_app(application)


@pytest.fixture()
def frozen_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin the rate limiter's clock inside one window, so a test never straddles two."""
    start = (int(time.time()) // 60) * 60 + 1
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: start))


def _client(app: Any, addr: str) -> Any:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = addr
    return client


def _random_addr() -> str:
    """A loopback address of its own, so counters (also in a shared Redis) never mix between runs."""
    return f"127.{random.randint(10, 250)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def _try_login(client: Any, **headers: str) -> Any:
    csrf = page_csrf(client)
    # An account name of its own per client: the per-account count (kept in a shared Redis) never mixes runs.
    return client.post("/login", data={"username": f"nobody-{id(client)}", "password": "wrong-password",
                                       "csrf_token": csrf},
                       headers=headers)


# ------------------------------------------------------------------ rate limits


def test_login_rate_limit(sqlite_app: Any, frozen_window: None) -> None:
    client = _client(sqlite_app, _random_addr())
    for _ in range(LOGIN_LIMIT):
        assert _try_login(client).status_code == 200  # the form again, with "login failed"
    r = _try_login(client)
    assert r.status_code == 429 and r.mimetype == "application/problem+json"
    assert r.get_json()["code"] == "LOGIN_RATE_LIMITED" and r.get_json()["retry_after"] > 0
    page = _try_login(client, Accept="text/html")
    assert page.status_code == 429 and page.mimetype == "text/html"
    # Another address is not affected.
    assert _try_login(_client(sqlite_app, _random_addr())).status_code == 200


def test_officer_page_rate_limit(sqlite_app: Any, frozen_window: None) -> None:
    client = _client(sqlite_app, _random_addr())
    for _ in range(OFFICER_LIMIT):
        assert client.get("/p/not-a-link", headers={"Accept": "text/html"}).status_code == 403
    r = client.get("/p/not-a-link", headers={"Accept": "text/html"})
    assert r.status_code == 429 and r.mimetype == "text/html"
    r = client.get("/p/not-a-link")
    assert r.status_code == 429 and r.get_json()["code"] == "RATE_LIMITED"


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def test_two_instances_share_the_counter_through_redis(tmp_path: Path, frozen_window: None) -> None:
    need(_redis_up(), "Redis is not running on 127.0.0.1:6379")
    first = make_app("sqlite", tmp_path / "a", redis_url=REDIS_URL)
    second = make_app("sqlite", tmp_path / "b", redis_url=REDIS_URL)
    try:
        assert isinstance(first.extensions["geo_service"].rate_limiter, ratelimit.RedisRateLimiter)
        addr = _random_addr()
        a, b = _client(first, addr), _client(second, addr)
        for i in range(LOGIN_LIMIT):
            assert _try_login(a if i % 2 else b).status_code == 200
        # Each instance saw only half the attempts, yet both refuse the next one.
        assert _try_login(a).status_code == 429
        assert _try_login(b).status_code == 429
    finally:
        dispose_app(first)
        dispose_app(second)


def test_redis_away_fails_open(tmp_path: Path, frozen_window: None) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    application = make_app("sqlite", tmp_path, redis_url=f"redis://127.0.0.1:{closed_port}/0")
    try:
        client = _client(application, _random_addr())
        assert _try_login(client).status_code == 200
        for _ in range(LOGIN_LIMIT):
            _try_login(client)
        assert _try_login(client).status_code == 429  # the in-process fallback still counts
    finally:
        dispose_app(application)


# ------------------------------------------------------------------ request size


def test_every_route_refuses_an_oversized_body(happ: Any) -> None:
    admin = {"Authorization": f"Bearer {make_token(happ, 'admin')}"}
    body = b'{"text": "' + b"1" * (32 * 1024) + b'"}'
    checked = 0
    for rule in happ.url_map.iter_rules():
        url = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: "1" if m.group(1) == "int" else "x", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            r = happ.test_client().open(url, method=method, data=body, headers={
                **admin, "Content-Type": "application/json"})
            assert r.status_code == 413, (method, rule.rule, r.status_code)
            assert r.mimetype == "application/problem+json" and r.get_json()["code"] == "PAYLOAD_TOO_LARGE"
            checked += 1
    assert checked >= 40
    # No token needed to be refused: the size is checked before anything else.
    r = happ.test_client().post("/api/v1/locate", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 413


# ------------------------------------------------------------------ headers, CSP, errors


def _csp(resp: Any) -> dict[str, list[str]]:
    out = {}
    for part in resp.headers["Content-Security-Policy"].split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def test_csp_allows_only_self_and_the_tile_host(happ: Any) -> None:
    client = happ.test_client()
    for resp in (client.get("/health"), client.get("/login"), client.get("/api/v1/openapi.json")):
        csp = _csp(resp)
        assert csp["default-src"] == ["'self'"]
        assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
        assert csp["frame-ancestors"] == ["'self'"]
        for directive, sources in csp.items():
            for src in sources:
                allowed = src in ("'self'", "'none'", "data:", "https://tiles.example.test") or (
                    src.startswith("'nonce-") and directive == "script-src") or (
                    src == "'unsafe-inline'" and directive == "style-src")
                assert allowed, f"{directive} allows {src}"
        assert "https://tiles.example.test" in csp["img-src"]
        assert "openstreetmap" not in resp.headers["Content-Security-Policy"]
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["X-Frame-Options"] == "SAMEORIGIN"
        assert resp.headers["Referrer-Policy"] == "no-referrer"


def test_page_scripts_carry_the_response_nonce(happ: Any) -> None:
    client = happ.test_client()
    token = make_token(happ, "dispatcher")
    nonces = []
    for _ in range(2):
        r = client.get("/", headers={"Authorization": f"Bearer {token}", "Accept": "text/html"})
        assert r.status_code == 200
        (nonce,) = [s.removeprefix("'nonce-").rstrip("'") for s in _csp(r)["script-src"] if s.startswith("'nonce-")]
        html = r.get_data(as_text=True)
        for tag in re.findall(r"<script\b[^>]*>", html):
            if "src=" not in tag:
                assert f'nonce="{nonce}"' in tag, tag
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_unexpected_error_is_a_generic_500_with_the_request_id(happ: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from geo_service.web import api, pages

    def boom(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("secret-internal-detail at /srv/geo_service/db.py line 42")

    monkeypatch.setattr(api, "locate_location", boom)
    monkeypatch.setattr(pages, "render_overview_map", boom)
    token = {"Authorization": f"Bearer {make_token(happ, 'dispatcher')}"}
    client = happ.test_client()
    r = client.post("/api/v1/locate", json={"lat": -8.65, "lon": 115.2}, headers={**token, "X-Request-ID": "req-42"})
    assert r.status_code == 500 and r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["code"] == "INTERNAL_ERROR" and body["request_id"] == "req-42" == r.headers["X-Request-ID"]
    raw = r.get_data(as_text=True)
    assert "secret-internal-detail" not in raw and "Traceback" not in raw and "RuntimeError" not in raw
    page = client.get("/", headers={**token, "Accept": "text/html"})
    assert page.status_code == 500 and page.mimetype == "text/html"
    assert "secret-internal-detail" not in page.get_data(as_text=True)
    assert "Traceback" not in page.get_data(as_text=True)


# ------------------------------------------------------------------ audit log


def _actions(app: Any, since_id: int) -> list[tuple[str, str, str | None]]:
    with app.extensions["geo_service"].storage.session() as s:
        rows = s.execute(select(AuditLog).where(AuditLog.id > since_id).order_by(AuditLog.id)).scalars()
        return [(a.action, a.actor, a.target_id) for a in rows]


def _last_audit_id(app: Any) -> int:
    with app.extensions["geo_service"].storage.session() as s:
        return s.execute(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1)).scalar() or 0


def test_admin_actions_and_incident_changes_are_audited(happ: Any) -> None:
    admin = {"Authorization": f"Bearer {make_token(happ, 'admin', name='audit-admin')}"}
    disp = {"Authorization": f"Bearer {make_token(happ, 'dispatcher', name='audit-disp')}"}
    c = happ.test_client()
    start = _last_audit_id(happ)

    tok = c.post("/api/v1/tokens", headers=admin, json={"name": "t", "role": "officer"}).get_json()
    c.post(f"/api/v1/tokens/{tok['id']}/revoke", headers=admin)
    user = c.post("/api/v1/users", headers=admin, json={"username": "audited", "password": "long-enough-pw",
                                                         "role": "officer"}).get_json()
    published = c.get("/health").get_json()["boundary_set"]
    assert c.post(f"/api/v1/boundary-sets/{published}/publish", headers=admin).status_code == 200
    station_set = c.get("/api/v1/station-sets", headers=admin).get_json()["sets"][0]["id"]
    assert c.post(f"/api/v1/station-sets/{station_set}/publish", headers=admin).status_code == 200
    inc = c.post("/api/v1/incidents", headers=disp, json={
        "location": {"lat": -8.6705, "lon": 115.2126}, "category": "pencurian", "description": "audit",
        "reported_at": utcnow().isoformat(), "channel": "call_110"}).get_json()
    assert c.patch(f"/api/v1/incidents/{inc['id']}", headers=disp,
                   json={"version": 1, "status": "dalam_proses"}).status_code == 200
    link = c.post("/api/v1/officer-links", headers=disp, json={"incident_id": inc["id"]}).get_json()
    c.post(f"/api/v1/officer-links/{link['jti']}/revoke", headers=disp)

    got = _actions(happ, start)
    expected = [
        ("token.create", "token:audit-admin", str(tok["id"])),
        ("token.revoke", "token:audit-admin", str(tok["id"])),
        ("user.create", "token:audit-admin", str(user["id"])),
        ("boundary_set.publish", "token:audit-admin", str(published)),
        ("station_set.publish", "token:audit-admin", str(station_set)),
        ("incident.create", "token:audit-disp", str(inc["id"])),
        ("incident.update", "token:audit-disp", str(inc["id"])),
        ("officer_link.create", "token:audit-disp", link["jti"]),
        ("officer_link.revoke", "token:audit-disp", link["jti"]),
    ]
    for item in expected:
        assert item in got, f"no audit record {item}; got {got}"
    # A refused action leaves no audit record.
    before = _last_audit_id(happ)
    assert c.post("/api/v1/tokens", headers=disp, json={"name": "x", "role": "admin"}).status_code == 403
    assert c.post("/api/v1/tokens", headers=admin, json={"name": "x", "role": "root"}).status_code == 422
    assert _last_audit_id(happ) == before


# ------------------------------------------------------------------ tokens at rest


def test_tokens_are_hashed_at_rest(happ: Any, backend: str) -> None:
    admin = {"Authorization": f"Bearer {make_token(happ, 'admin')}"}
    clear = happ.test_client().post("/api/v1/tokens", headers=admin,
                                    json={"name": "at-rest", "role": "dispatcher"}).get_json()["token"]
    storage = happ.extensions["geo_service"].storage
    with storage.session() as s:
        row = repo.find_token(s, clear)
        assert row is not None and row.token_hash == repo.hash_token(clear) != clear
        if backend == "postgis":
            tables = s.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
            dump = "".join(s.execute(text(f'SELECT coalesce(string_agg(t::text, \'\n\'), \'\') FROM "{name}" t'))
                           .scalar_one() for name in tables)
            assert "api_tokens" in tables and row.token_hash in dump
            assert clear not in dump
    if backend == "sqlite":
        files = list(Path(happ.extensions["geo_service"].settings.data_dir).glob("*.sqlite3*"))
        raw = b"".join(f.read_bytes() for f in files)
        assert files and repo.hash_token(clear).encode() in raw
        assert clear.encode() not in raw


# ------------------------------------------------------------------ the parser fuzz test


def test_parser_fuzz_profile_reaches_100k_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    """HYPOTHESIS_PROFILE=fuzz runs the coordinate-parser fuzz test with >= 100,000 examples, and the test
    accepts no exception other than CoordinateInvalid (checked here without running it)."""
    root = Path(__file__).resolve().parents[1] / "geo"
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "fuzz")
    modules = {}
    for name in ("conftest", "test_coords"):
        spec = importlib.util.spec_from_file_location(f"_fuzzcheck_{name}", root / f"{name}.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, spec.name, module)
        spec.loader.exec_module(module)
        modules[name] = module
    fuzz = modules["test_coords"].test_fuzz_parser_only_raises_coordinate_invalid
    assert fuzz._hypothesis_internal_use_settings.max_examples >= 100_000
    source = inspect.getsource(fuzz)
    assert re.findall(r"except\b[^:]*:", source) == ["except errors.CoordinateInvalid:"]
