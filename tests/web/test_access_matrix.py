"""Access control (issue 7): every endpoint x every principal, generated from the route table.

The matrix walks ``app.url_map`` and reads each view's rule (``_access``, set by ``@allow`` /
``@public``), so a new endpoint is checked the moment it is registered, and one without a rule
fails here. Expected answers:

* public views: never 401/403, whoever calls;
* protected views: 401 without a token and with an expired or revoked one, 403 for a role the
  rule does not name, and neither 401 nor 403 (nor 5xx) for a role it names (a minimal body is
  sent, so 2xx or another 4xx is fine).

Also: page logins (sessions) on a few page routes, and unit scoping of a Polres supervisor.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from geo_service.storage.types import utcnow
from geo_service.web.auth import ROLES, access_rule
from tests.conftest import dispose_app, make_app, make_token, page_csrf

AUTH_CODES = {"AUTH_REQUIRED", "TOKEN_INVALID", "TOKEN_EXPIRED"}
PRINCIPALS = (*ROLES, "none", "expired", "revoked")
PASSWORD = "correct-horse-battery"
# Values for path parameters: ids that do not exist (an allowed caller gets 404, nothing changes).
PATH_VALUES = {"int": "999999", "path": "does-not-exist.js", "default": "does-not-exist"}


@pytest.fixture(scope="module")
def mapp(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A dedicated app with every blueprint of issue 7."""
    application = make_app(backend, tmp_path_factory.mktemp(f"matrix-{backend}"))
    if "accounts_api" not in application.blueprints:
        from geo_service.web.accounts_api import bp

        application.register_blueprint(bp)
    yield application
    dispose_app(application)


@pytest.fixture(scope="module")
def tokens(mapp: Any) -> dict[str, str | None]:
    """A clear token per principal kind (None: no Authorization header)."""
    from geo_service.services import accounts
    from geo_service.storage import repo

    out: dict[str, str | None] = {role: make_token(mapp, role, name=f"matrix-{role}") for role in ROLES}
    out["none"] = None
    out["expired"] = make_token(mapp, "admin", name="matrix-expired", expires_at=utcnow() - timedelta(minutes=1))
    revoked = make_token(mapp, "admin", name="matrix-revoked")
    with mapp.extensions["geo_service"].storage.transaction() as session:
        accounts.revoke_token(session, repo.find_token(session, revoked).id, actor="test")
    out["revoked"] = revoked
    return out


@pytest.fixture(scope="module")
def officer_token(mapp: Any) -> str:
    """A valid officer-link token, so the public officer page has something real to show."""
    from geo_service.services import officer_links

    settings = mapp.extensions["geo_service"].settings
    answer = {"point": {"lat": -8.65, "lon": 115.21}, "status": "valid", "match": "inside", "flags": []}
    with mapp.extensions["geo_service"].storage.transaction() as session:
        token, _ = officer_links.create_link(session, answer, secret=settings.secret_key,
                                             ttl_s=settings.officer_link_ttl_s, actor="test")
    return token


def _routes(app: Any) -> list[tuple[str, str, str, Any]]:
    """(method, rule, endpoint, access rule) for every route of the app."""
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((method, rule.rule, rule.endpoint, access_rule(view)))
    return out


def _url(rule: str, endpoint: str, officer_token: str) -> str:
    def value(m: re.Match[str]) -> str:
        conv, name = m.group(1), m.group(2)
        if endpoint in ("pages.officer_page", "calls.officer_milestone") and name == "token":
            return officer_token
        if endpoint == "pages.set_lang":
            return "en"
        return PATH_VALUES.get(conv or "default", PATH_VALUES["default"])

    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", value, rule)


def _call(app: Any, method: str, rule: str, endpoint: str, token: str | None, officer_token: str) -> Any:
    """One request with a minimal body: JSON {} for the API, a form with the CSRF token for pages."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = _url(rule, endpoint, officer_token)
    if method in ("POST", "PUT", "PATCH"):
        if rule.startswith("/api/"):
            return client.open(url, method=method, json={}, headers=headers)
        csrf = page_csrf(client)  # the session's CSRF token, as the login form carries it
        return client.open(url, method=method, data={"csrf_token": csrf}, headers=headers)
    return client.open(url, method=method, headers=headers)


def test_every_view_has_an_access_rule(mapp: Any) -> None:
    missing = [ep for ep, view in mapp.view_functions.items() if access_rule(view) is False]
    assert not missing, f"views without @allow/@public: {missing}"
    assert len(_routes(mapp)) >= 40


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_access_matrix(mapp: Any, tokens: dict[str, str | None], officer_token: str, principal: str) -> None:
    wrong: list[str] = []
    for method, rule, endpoint, access in _routes(mapp):
        resp = _call(mapp, method, rule, endpoint, tokens[principal], officer_token)
        status = resp.status_code
        body = resp.get_json(silent=True) if resp.is_json else None
        code = body.get("code") if isinstance(body, dict) else None
        if access is None:
            expected = "not 401/403/5xx"
            ok = status not in (401, 403) and status < 500
        elif principal in ("none", "expired", "revoked"):
            expected = "401"
            ok = status == 401 and code in AUTH_CODES
            if principal == "expired":
                ok = ok and code == "TOKEN_EXPIRED"
        elif principal in access:
            expected = "not 401/403/5xx"
            ok = status not in (401, 403) and status < 500
        else:
            expected = "403 ROLE_FORBIDDEN"
            ok = status == 403 and code == "ROLE_FORBIDDEN"
        if not ok:
            wrong.append(f"{method} {rule} as {principal}: got {status} {code or ''}, expected {expected}")
    assert not wrong, "\n".join(wrong)


def test_a_view_without_rule_is_refused_and_reported(sqlite_app: Any) -> None:
    def naked() -> str:
        return "should never be served"

    sqlite_app.add_url_rule("/api/v1/naked", "naked", naked)
    admin = make_token(sqlite_app, "admin")
    r = sqlite_app.test_client().get("/api/v1/naked", headers={"Authorization": f"Bearer {admin}"})
    assert r.status_code == 403 and r.get_json()["code"] == "NO_ACCESS_RULE"
    assert [ep for ep, v in sqlite_app.view_functions.items() if access_rule(v) is False] == ["naked"]


# ------------------------------------------------------------------ pages with a login session


def _login(app: Any, username: str, remote_addr: str) -> Any:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = remote_addr
    csrf = page_csrf(client)
    r = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf})
    assert r.status_code == 302, r.data[:300]
    return client


@pytest.fixture(scope="module")
def users(mapp: Any) -> dict[str, str]:
    from geo_service.services import accounts

    out = {}
    with mapp.extensions["geo_service"].storage.transaction() as session:
        for role in ROLES:
            accounts.create_user(session, username=f"page-{role}", password=PASSWORD, role=role, unit_code=None,
                                 actor="test")
            out[role] = f"page-{role}"
    return out


@pytest.mark.parametrize(("path", "allowed"), [
    ("/", {"admin", "dispatcher"}),
    ("/admin/boundaries", {"admin"}),
    ("/admin/stations", {"admin"}),
    ("/reports/weekly", {"admin", "supervisor"}),
])
def test_pages_with_a_login_session(mapp: Any, users: dict[str, str], path: str, allowed: set[str]) -> None:
    html = {"Accept": "text/html"}
    anonymous = mapp.test_client().get(path, headers=html)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    for i, role in enumerate(ROLES):
        client = _login(mapp, users[role], f"127.0.1.{i + 1}")
        r = client.get(path, headers=html)
        if role in allowed:
            assert r.status_code == 200, (role, path, r.status_code)
            assert r.mimetype == "text/html"
        else:
            assert r.status_code == 403, (role, path, r.status_code)
        # The session also reaches the API with the same rules (no token needed from a logged-in page).
        api = client.get("/api/v1/tokens")
        assert api.status_code == (200 if role == "admin" else 403)
    logged_out = _login(mapp, users["admin"], "127.0.1.9")
    csrf = page_csrf(logged_out, "/")
    logged_out.post("/logout", data={"csrf_token": csrf})
    assert logged_out.get(path, headers=html).status_code == 302


# ------------------------------------------------------------------ unit scoping


def _incident(client: Any, headers: dict[str, str], point: tuple[float, float]) -> dict[str, Any]:
    lon, lat = point
    r = client.post("/api/v1/incidents", headers=headers, json={
        "location": {"lat": lat, "lon": lon}, "category": "pencurian", "description": "uji scope",
        "reported_at": utcnow().isoformat(), "channel": "call_110"})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_polres_supervisor_sees_only_its_own_polres(mapp: Any, tokens: dict[str, str | None]) -> None:
    idx = mapp.extensions["geo_service"].holder.current()
    client = mapp.test_client()
    dispatcher = {"Authorization": f"Bearer {tokens['dispatcher']}"}
    own = [_incident(client, dispatcher, idx.reference_point(u.code)) for u in idx.children("51.01")[:2]]
    other = [_incident(client, dispatcher, idx.reference_point(u.code)) for u in idx.children("51.03")[:2]]
    assert all(i["unit"]["polres"]["code"] == "51.01" for i in own)
    assert all(i["unit"]["polres"]["code"] == "51.03" for i in other)

    sup = {"Authorization": f"Bearer {make_token(mapp, 'supervisor', unit='51.01', name='sup-51.01')}"}
    listed = client.get("/api/v1/incidents?per_page=200", headers=sup).get_json()
    ids = {i["id"] for i in listed["items"]}
    assert {i["id"] for i in own} <= ids
    assert not ids & {i["id"] for i in other}
    assert all(i["unit"]["polres"]["code"] == "51.01" for i in listed["items"])
    csv_text = client.get("/api/v1/incidents?format=csv", headers=sup).get_data(as_text=True)
    assert "51.03" not in csv_text and "51.01" in csv_text

    assert client.get(f"/api/v1/incidents/{own[0]['id']}", headers=sup).status_code == 200
    r = client.get(f"/api/v1/incidents/{other[0]['id']}", headers=sup)
    assert r.status_code == 403 and r.get_json()["code"] == "OUT_OF_SCOPE"
    r = client.get("/api/v1/incidents?unit=51.03", headers=sup)
    assert r.status_code == 403 and r.get_json()["code"] == "OUT_OF_SCOPE"
    r = client.get("/api/v1/incidents?unit=51", headers=sup)  # the Polda above is out of scope too
    assert r.status_code == 403

    recap = client.get("/api/v1/reports/weekly", headers=sup)
    assert recap.status_code == 200 and recap.get_json()["unit"]["code"] == "51.01"
    r = client.get("/api/v1/reports/weekly?unit=51.03", headers=sup)
    assert r.status_code == 403 and r.get_json()["code"] == "OUT_OF_SCOPE"

    # A dispatcher of 51.01 cannot send an officer link for an incident of 51.03.
    disp_5101 = {"Authorization": f"Bearer {make_token(mapp, 'dispatcher', unit='51.01', name='disp-51.01')}"}
    r = client.post("/api/v1/officer-links", headers=disp_5101, json={"incident_id": other[0]["id"]})
    assert r.status_code == 403
    r = client.post("/api/v1/officer-links", headers=disp_5101, json={"incident_id": own[0]["id"]})
    assert r.status_code == 201
