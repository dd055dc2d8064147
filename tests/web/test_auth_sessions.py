"""Issue 12 (hardening), items 4-6 through the WSGI stack: CSRF and Origin on API writes made
with a page login, server-side sessions (logout, disabling a user, a role change), login
throttling per client and per account, and trusted proxy hops.

The real-server variants (two workers sharing Redis, a cross-origin page in Chromium) are in
``tests/web/test_auth_server.py``; the database outage in ``tests/web/test_auth_outage.py``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from geo_service.services import ratelimit
from geo_service.web.security import DEVICE_COOKIE
from tests.conftest import dispose_app, make_app, make_token, page_csrf

PASSWORD = "correct-horse-battery"
SESSION_COOKIE = "geo_service_session"
ORIGIN = "http://localhost"  # the Flask test client's own origin
HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def sapp(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    application = make_app(backend, tmp_path_factory.mktemp(f"auth-sessions-{backend}"))
    yield application
    dispose_app(application)


@pytest.fixture(scope="module")
def admin(sapp: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(sapp, 'admin', name='sessions-admin')}"}


def _addr() -> str:
    return f"127.{random.randint(10, 250)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def _user(app: Any, role: str, admin: dict[str, str], unit: str | None = None) -> dict[str, Any]:
    body = {"username": f"u-{role}-{random.getrandbits(40):x}", "password": PASSWORD, "role": role}
    if unit:
        body["unit_code"] = unit
    r = app.test_client().post("/api/v1/users", json=body, headers=admin)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _login(app: Any, username: str, *, addr: str | None = None, client: Any = None,
           password: str = PASSWORD) -> Any:
    client = client or app.test_client()
    client.environ_base["REMOTE_ADDR"] = addr or _addr()
    r = client.post("/login", data={"username": username, "password": password, "csrf_token": page_csrf(client)})
    client.last_login = r
    return client


def _logged_in(app: Any, username: str, **kw: Any) -> Any:
    client = _login(app, username, **kw)
    assert client.last_login.status_code == 302, client.last_login.get_data(as_text=True)[:300]
    return client


def _replay(app: Any, cookie_value: str) -> Any:
    """A new browser that only has a copied session cookie value."""
    thief = app.test_client()
    thief.set_cookie(SESSION_COOKIE, cookie_value)
    return thief


# ------------------------------------------------------------------ item 4: CSRF + Origin on the API


def test_cross_origin_cookie_write_is_refused_and_the_page_flow_works(sapp: Any, admin: dict[str, str]) -> None:
    victim = _user(sapp, "admin", admin)
    browser = _logged_in(sapp, victim["username"])
    target = sapp.test_client().post("/api/v1/tokens", json={"name": "to-revoke", "role": "officer"},
                                     headers=admin).get_json()
    url = f"/api/v1/tokens/{target['id']}/revoke"

    attacks = {
        "another origin": {"Origin": "http://evil.example"},
        "same host, other port": {"Origin": "http://localhost:8081"},
        "no Origin at all": {},
        "null origin": {"Origin": "null"},
    }
    for name, headers in attacks.items():
        r = browser.post(url, headers={**headers, "X-CSRFToken": page_csrf(browser, "/")})
        assert r.status_code == 403, name
        assert r.mimetype == "application/problem+json" and r.get_json()["code"] == "CROSS_ORIGIN", name
    # Same origin but no token (a form post from a sibling page, say): refused too.
    r = browser.post(url, headers={"Origin": ORIGIN})
    assert r.status_code == 403 and r.get_json()["code"] == "CSRF_FAILED"
    r = browser.post(url, headers={"Origin": ORIGIN, "X-CSRFToken": "forged"})
    assert r.status_code == 403 and r.get_json()["code"] == "CSRF_FAILED"
    listed = {t["id"]: t for t in sapp.test_client().get("/api/v1/tokens", headers=admin).get_json()}
    assert listed[target["id"]]["revoked_at"] is None, "a refused request changed something"

    # The page's own flow: same origin and the session's CSRF token in the header.
    r = browser.post(url, headers={"Origin": ORIGIN, "X-CSRFToken": page_csrf(browser, "/")})
    assert r.status_code == 200 and r.get_json()["revoked_at"]
    # Reads with the page cookie keep working without a token (the map layers fetch /api/v1/units).
    assert browser.get("/api/v1/units?level=polres").status_code == 200
    # Bearer-token callers need neither header.
    assert sapp.test_client().post(url, headers=admin).status_code == 200


def test_a_bearer_token_is_never_mixed_with_the_cookie(sapp: Any, admin: dict[str, str]) -> None:
    """A cookie session does not lend its rights to a request that also carries a bad bearer token."""
    victim = _user(sapp, "admin", admin)
    browser = _logged_in(sapp, victim["username"])
    r = browser.post("/api/v1/tokens", json={"name": "x", "role": "officer"},
                     headers={"Authorization": "Bearer gs_not-a-token"})
    assert r.status_code == 401


# ------------------------------------------------------------------ item 5: server-side sessions


def test_logout_ends_the_session_on_the_server(sapp: Any, admin: dict[str, str]) -> None:
    user = _user(sapp, "admin", admin)
    browser = _logged_in(sapp, user["username"])
    stolen = browser.get_cookie(SESSION_COOKIE).value
    assert _replay(sapp, stolen).get("/api/v1/tokens").status_code == 200  # the copy works while logged in

    assert browser.post("/logout", data={"csrf_token": page_csrf(browser, "/")}).status_code == 302
    assert browser.get("/", headers=HTML).status_code == 302
    thief = _replay(sapp, stolen)
    r = thief.get("/api/v1/tokens")
    assert r.status_code == 401 and r.get_json()["code"] == "AUTH_REQUIRED"
    page = thief.get("/admin/boundaries", headers=HTML)
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_one_logout_ends_only_that_login(sapp: Any, admin: dict[str, str]) -> None:
    user = _user(sapp, "dispatcher", admin)
    desk, phone = _logged_in(sapp, user["username"]), _logged_in(sapp, user["username"])
    desk.post("/logout", data={"csrf_token": page_csrf(desk, "/")})
    assert desk.get("/", headers=HTML).status_code == 302
    assert phone.get("/", headers=HTML).status_code == 200


def test_disabling_a_user_takes_effect_on_the_next_request(sapp: Any, admin: dict[str, str]) -> None:
    user = _user(sapp, "dispatcher", admin)
    browser = _logged_in(sapp, user["username"])
    assert browser.get("/", headers=HTML).status_code == 200
    r = sapp.test_client().patch(f"/api/v1/users/{user['id']}", json={"disabled": True}, headers=admin)
    assert r.status_code == 200 and r.get_json()["disabled"] is True
    assert browser.get("/", headers=HTML).status_code == 302
    assert browser.get("/api/v1/units?level=polres").status_code == 401
    # ... and cannot log in again until enabled.
    assert _login(sapp, user["username"]).last_login.status_code == 200
    sapp.test_client().patch(f"/api/v1/users/{user['id']}", json={"disabled": False}, headers=admin)
    assert _login(sapp, user["username"]).last_login.status_code == 302


def test_a_role_change_takes_effect_on_the_next_request(sapp: Any, admin: dict[str, str]) -> None:
    user = _user(sapp, "admin", admin)
    browser = _logged_in(sapp, user["username"])
    stolen = browser.get_cookie(SESSION_COOKIE).value
    assert browser.get("/api/v1/tokens").status_code == 200
    r = sapp.test_client().patch(f"/api/v1/users/{user['id']}", json={"role": "officer"}, headers=admin)
    assert r.status_code == 200 and r.get_json()["role"] == "officer"
    # The admin session is gone: neither the browser nor a copy of its cookie keeps admin rights.
    assert browser.get("/api/v1/tokens").status_code == 401
    assert _replay(sapp, stolen).get("/api/v1/tokens").status_code == 401
    again = _logged_in(sapp, user["username"])
    assert again.get("/api/v1/tokens").status_code == 403  # an officer now
    assert again.get("/", headers=HTML).status_code == 403


def test_user_patch_is_validated_and_audited(sapp: Any, admin: dict[str, str]) -> None:
    user = _user(sapp, "dispatcher", admin)
    c = sapp.test_client()
    for body, pointer in (({"role": "root"}, "/role"), ({"disabled": "yes"}, "/disabled"),
                          ({"password": "x" * 12}, "/password"), ({"unit_code": "99.99"}, "/unit_code")):
        r = c.patch(f"/api/v1/users/{user['id']}", json=body, headers=admin)
        assert r.status_code == 422, body
        assert r.get_json()["errors"][0]["pointer"] == pointer
    assert c.patch("/api/v1/users/999999", json={"disabled": True}, headers=admin).status_code == 404
    disp = {"Authorization": f"Bearer {make_token(sapp, 'dispatcher')}"}
    assert c.patch(f"/api/v1/users/{user['id']}", json={"disabled": True}, headers=disp).status_code == 403
    r = c.patch(f"/api/v1/users/{user['id']}", json={"unit_code": "51.03"}, headers=admin)
    assert r.status_code == 200 and r.get_json()["unit_code"] == "51.03"
    from sqlalchemy import select

    from geo_service.storage.models import AuditLog

    with sapp.extensions["geo_service"].storage.session() as s:
        rows = s.execute(select(AuditLog).where(AuditLog.action == "user.update",
                                                AuditLog.target_id == str(user["id"]))).scalars().all()
    assert rows and rows[-1].actor == "token:sessions-admin" and rows[-1].detail["unit_code"] == "51.03"


def test_the_cookie_carries_no_role(sapp: Any, admin: dict[str, str]) -> None:
    user = _user(sapp, "admin", admin)
    browser = _logged_in(sapp, user["username"])
    with browser.session_transaction() as sess:
        assert set(sess) <= {"_user_id", "_fresh", "_id", "csrf_token"}
        assert "admin" not in str(dict(sess))


# ------------------------------------------------------------------ item 6: throttling


def test_per_account_limit_holds_attackers_but_not_the_users_own_browser(sapp: Any, admin: dict[str, str]) -> None:
    user = _user(sapp, "admin", admin)
    name = user["username"]
    own_browser = _logged_in(sapp, name)  # logged in before: this browser holds the device cookie
    assert own_browser.get_cookie(DEVICE_COOKIE) is not None
    own_browser.post("/logout", data={"csrf_token": page_csrf(own_browser, "/")})

    per_account, _window = ratelimit.LOGIN_PER_ACCOUNT
    per_client, _window = ratelimit.LOGIN_PER_CLIENT
    # An attacker spreads guesses over many addresses, staying under the per-client limit.
    guesses = 0
    while guesses < per_account:
        attacker = sapp.test_client()
        for _ in range(min(per_client, per_account - guesses)):
            assert _login(sapp, name, client=attacker, password="wrong-guess-1").last_login.status_code == 200
            guesses += 1
    blocked = _login(sapp, name, password="wrong-guess-2")
    assert blocked.last_login.status_code == 429
    assert blocked.last_login.get_json()["code"] == "LOGIN_RATE_LIMITED"
    # Even the right password from an unknown browser waits now ...
    assert _login(sapp, name).last_login.status_code == 429
    # ... but the user's own browser still gets in, and other accounts are not affected.
    assert _login(sapp, name, client=own_browser).last_login.status_code == 302
    other = _user(sapp, "dispatcher", admin)
    assert _login(sapp, other["username"]).last_login.status_code == 302


def test_a_forged_device_cookie_does_not_skip_the_account_limit(sapp: Any, admin: dict[str, str]) -> None:
    user = _user(sapp, "admin", admin)
    per_account, _window = ratelimit.LOGIN_PER_ACCOUNT
    per_client, _window = ratelimit.LOGIN_PER_CLIENT
    for _ in range(per_account // per_client + 1):
        attacker = sapp.test_client()
        for _ in range(per_client):
            _login(sapp, user["username"], client=attacker, password="wrong-guess-3")
    forger = sapp.test_client()
    forger.set_cookie(DEVICE_COOKIE, f'["{user["username"]}"]')
    assert _login(sapp, user["username"], client=forger).last_login.status_code == 429


def _attempt(client: Any, **headers: str) -> int:
    csrf = page_csrf(client)
    return client.post("/login", data={"username": f"nobody-{random.getrandbits(40):x}", "password": "wrong-pw",
                                       "csrf_token": csrf}, headers=headers).status_code


def test_x_forwarded_for_is_ignored_without_trusted_proxies(sapp: Any) -> None:
    client = sapp.test_client()
    client.environ_base["REMOTE_ADDR"] = _addr()
    per_client, _window = ratelimit.LOGIN_PER_CLIENT
    for i in range(per_client):
        assert _attempt(client, **{"X-Forwarded-For": f"10.9.{i}.1"}) == 200
    # A fresh forged address each time does not give a fresh bucket.
    assert _attempt(client, **{"X-Forwarded-For": "10.9.99.1"}) == 429


def test_one_trusted_proxy_hop(tmp_path: Any) -> None:
    app = make_app("sqlite", tmp_path, trusted_proxies=1)
    try:
        proxy = app.test_client()
        proxy.environ_base["REMOTE_ADDR"] = "127.0.0.1"  # nginx on the same host
        per_client, _window = ratelimit.LOGIN_PER_CLIENT
        client_a, client_b = _addr(), _addr()
        for i in range(per_client):
            # The client forges a left-hand entry; nginx appends the address it saw.
            assert _attempt(proxy, **{"X-Forwarded-For": f"10.8.{i}.1, {client_a}"}) == 200
        assert _attempt(proxy, **{"X-Forwarded-For": f"10.8.99.1, {client_a}"}) == 429
        # Another client behind the same proxy has a bucket of its own.
        assert _attempt(proxy, **{"X-Forwarded-For": client_b}) == 200
    finally:
        dispose_app(app)


def test_trusted_proxies_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from geo_service.config import load_settings
    from geo_service.errors import ConfigError

    env = {"GEO_SERVICE_DATA_DIR": str(tmp_path)}
    assert load_settings(env).trusted_proxies == 0
    assert load_settings({**env, "GEO_SERVICE_TRUSTED_PROXIES": "1"}).trusted_proxies == 1
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        load_settings({**env, "GEO_SERVICE_TRUSTED_PROXIES": "-1"})
    assert load_settings({**env, "GEO_SERVICE_SESSION_HOURS": "8"}).session_ttl_s == 8 * 3600


def test_revocation_list_reads_what_other_processes_revoked(sapp: Any, admin: dict[str, str]) -> None:
    """The per-process list learns a revocation written by anyone else from the database."""
    from geo_service.services import accounts
    from geo_service.services.revocations import RevocationList
    from geo_service.storage import repo

    storage = sapp.extensions["geo_service"].storage
    clear = make_token(sapp, "officer", name="listed")
    elsewhere = RevocationList()
    assert elsewhere.maybe_sync(storage.session, force=True)
    assert not elsewhere.is_revoked("token", repo.hash_token(clear))
    with storage.transaction() as s:
        accounts.revoke_token(s, repo.find_token(s, clear).id, actor="test")
    assert elsewhere.maybe_sync(storage.session, force=True)
    assert elsewhere.is_revoked("token", repo.hash_token(clear))
