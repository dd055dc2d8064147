"""Admin API for tokens and users (issue 7): create (token shown once), list (no hashes), revoke,
expiry, validation of bodies, and the audit record of every action."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from geo_service.storage.models import AuditLog
from geo_service.storage.types import utcnow
from tests.conftest import dispose_app, make_app, make_token, page_csrf


@pytest.fixture(scope="module")
def aapp(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    application = make_app(backend, tmp_path_factory.mktemp(f"accounts-{backend}"))
    if "accounts_api" not in application.blueprints:
        from geo_service.web.accounts_api import bp

        application.register_blueprint(bp)
    yield application
    dispose_app(application)


@pytest.fixture(scope="module")
def admin(aapp: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(aapp, 'admin', name='boss')}"}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _audit(app: Any, action: str, target_id: Any) -> list[AuditLog]:
    with app.extensions["geo_service"].storage.session() as s:
        return list(s.execute(select(AuditLog).where(AuditLog.action == action,
                                                     AuditLog.target_id == str(target_id))).scalars())


def test_create_list_use_and_revoke_a_token(aapp: Any, admin: dict[str, str]) -> None:
    c = aapp.test_client()
    r = c.post("/api/v1/tokens", headers=admin, json={"name": "polres badung", "role": "supervisor",
                                                       "unit_code": "51.03", "expires_in_days": 30})
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    clear = created["token"]
    assert clear.startswith("gs_") and len(clear) > 40
    assert created["role"] == "supervisor" and created["unit_code"] == "51.03" and created["active"]
    expires = datetime.fromisoformat(created["expires_at"])
    assert abs(expires - (utcnow() + timedelta(days=30))) < timedelta(minutes=1)

    listed = c.get("/api/v1/tokens", headers=admin).get_json()
    mine = next(t for t in listed if t["id"] == created["id"])
    assert "token" not in mine and "token_hash" not in mine
    assert clear not in str(listed)
    assert all(set(t) >= {"id", "name", "role", "expires_at", "revoked_at", "active"} for t in listed)

    # The token works, with its role and unit.
    assert c.get("/api/v1/incidents", headers=_bearer(clear)).status_code == 200
    assert c.get("/api/v1/incidents?unit=51.01", headers=_bearer(clear)).get_json()["code"] == "OUT_OF_SCOPE"
    assert c.get("/api/v1/tokens", headers=_bearer(clear)).status_code == 403

    # Revoked: refused at once, although this process verified it a moment ago.
    r = c.post(f"/api/v1/tokens/{created['id']}/revoke", headers=admin)
    assert r.status_code == 200 and r.get_json()["revoked_at"] and not r.get_json()["active"]
    r = c.get("/api/v1/incidents", headers=_bearer(clear))
    assert r.status_code == 401 and r.get_json()["code"] == "TOKEN_INVALID"
    assert c.post(f"/api/v1/tokens/{created['id']}/revoke", headers=admin).status_code == 200  # harmless twice
    assert c.post("/api/v1/tokens/999999/revoke", headers=admin).status_code == 404

    (create_row,) = _audit(aapp, "token.create", created["id"])
    assert create_row.actor == "token:boss" and create_row.detail["unit_code"] == "51.03"
    revokes = _audit(aapp, "token.revoke", created["id"])
    assert len(revokes) == 2 and all(a.actor == "token:boss" and a.request_id for a in revokes)


def test_token_expires(aapp: Any, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from geo_service.services import accounts
    from geo_service.web import auth

    c = aapp.test_client()
    created = c.post("/api/v1/tokens", headers=admin, json={"name": "short", "role": "officer",
                                                             "expires_in_days": 1}).get_json()
    assert c.get("/api/v1/units/51", headers=_bearer(created["token"])).status_code == 200
    # Two days later (the admin token has no expiry and keeps working).
    later = utcnow() + timedelta(days=2)
    monkeypatch.setattr(auth, "utcnow", lambda: later)
    monkeypatch.setattr(accounts, "utcnow", lambda: later)
    r = c.get("/api/v1/units/51", headers=_bearer(created["token"]))
    assert r.status_code == 401 and r.get_json()["code"] == "TOKEN_EXPIRED"
    listed = {t["id"]: t for t in c.get("/api/v1/tokens", headers=admin).get_json()}
    assert listed[created["id"]]["active"] is False


@pytest.mark.parametrize("body", [
    {"role": "admin"},
    {"name": "", "role": "admin"},
    {"name": "x" * 121, "role": "admin"},
    {"name": "x", "role": "root"},
    {"name": "x", "role": "admin", "expires_in_days": 0},
    {"name": "x", "role": "admin", "expires_in_days": "3"},
    {"name": "x", "role": "admin", "expires_in_days": True},
    {"name": "x", "role": "admin", "expires_in_days": 10**9},
    {"name": "x", "role": "supervisor", "unit_code": "99.99"},
    {"name": "x", "role": "supervisor", "unit_code": 51},
    ["name", "role"],
])
def test_token_bodies_are_checked(aapp: Any, admin: dict[str, str], body: Any) -> None:
    r = aapp.test_client().post("/api/v1/tokens", headers=admin, json=body)
    assert r.status_code == 422, r.get_json()
    assert r.mimetype == "application/problem+json" and r.get_json()["errors"]


def test_token_body_must_be_json(aapp: Any, admin: dict[str, str]) -> None:
    r = aapp.test_client().post("/api/v1/tokens", headers=admin, data="name=x&role=admin")
    assert r.status_code == 415


def test_create_and_list_users(aapp: Any, admin: dict[str, str]) -> None:
    c = aapp.test_client()
    r = c.post("/api/v1/users", headers=admin, json={"username": "sup.badung", "password": "correct-horse-battery",
                                                      "role": "supervisor", "unit_code": "51.03"})
    assert r.status_code == 201, r.get_json()
    user = r.get_json()
    assert user["username"] == "sup.badung" and user["unit_code"] == "51.03"
    assert "password" not in user and "password_hash" not in user
    listed = c.get("/api/v1/users", headers=admin).get_json()
    assert any(u["username"] == "sup.badung" for u in listed)
    assert "argon2" not in str(listed)
    again = c.post("/api/v1/users", headers=admin, json={"username": "sup.badung", "password": "another-long-one",
                                                          "role": "officer"})
    assert again.status_code == 409 and again.get_json()["code"] == "USER_EXISTS"
    short = c.post("/api/v1/users", headers=admin, json={"username": "x1", "password": "short", "role": "officer"})
    assert short.status_code == 422 and short.get_json()["code"] == "PASSWORD_TOO_SHORT"
    bad_role = c.post("/api/v1/users", headers=admin, json={"username": "x2", "password": "long-enough-pw",
                                                             "role": "god"})
    assert bad_role.status_code == 422
    (row,) = _audit(aapp, "user.create", user["id"])
    assert row.actor == "token:boss" and row.detail["role"] == "supervisor"
    assert "correct-horse-battery" not in str(row.detail)

    # The new user can log in to the pages, with the role and unit given.
    login = aapp.test_client()
    login.environ_base["REMOTE_ADDR"] = "127.0.2.1"
    csrf = page_csrf(login)
    r = login.post("/login", data={"username": "sup.badung", "password": "correct-horse-battery", "csrf_token": csrf})
    assert r.status_code == 302
    # The session is kept on the server: the cookie holds a key, never the role.
    with login.session_transaction() as sess:
        assert "supervisor" not in str(dict(sess)) and "user" not in sess
    recap = login.get("/api/v1/reports/weekly")
    assert recap.status_code == 200 and recap.get_json()["unit"]["code"] == "51.03"
    assert login.get("/api/v1/tokens").status_code == 403  # a supervisor, not an admin
