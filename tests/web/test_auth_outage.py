"""Issue 12, item 7: revocations hold while PostgreSQL is away.

Before, a token verified before the outage and revoked afterwards elsewhere (another worker or
host) was served from the degraded cache for up to an hour, and an officer link revoked before
the outage opened again (its row could not be read). The outage is simulated as in
``test_degraded.py``: the service reaches PostgreSQL through a TCP proxy the test cuts.

"Another process" writes its revocations straight to PostgreSQL (not through the proxy) with
the same service functions its API views call; it shares no memory with the app under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from geo_service.services import accounts, officer_links, revocations
from geo_service.storage import repo
from geo_service.storage.db import Storage
from geo_service.storage.models import ApiToken
from tests.conftest import make_token, need, page_csrf
from tests.web.test_degraded import CuttableProxy, proxied_app  # noqa: F401 - the fixture
from tests.web.test_hardening import REDIS_URL, _redis_up

HTML = {"Accept": "text/html"}
POINT = {"lat": -8.6705, "lon": 115.2126}
PASSWORD = "correct-horse-battery"


@pytest.fixture()
def elsewhere(proxied_app: tuple[Any, CuttableProxy]) -> Iterator[Storage]:  # noqa: F811
    """Another host's connection to the same database, straight to PostgreSQL (it does not go away)."""
    app, _proxy = proxied_app
    url = make_url(app.extensions["geo_service"].settings.database_url).set(port=5432)
    storage = Storage(url.render_as_string(hide_password=False), "postgresql")
    yield storage
    storage.engine.dispose()


def _token_id(storage: Storage, clear: str) -> int:
    with storage.session() as s:
        row = repo.find_token(s, clear)
        assert row is not None
        return row.id


def _link(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    r = client.post("/api/v1/officer-links", json=POINT, headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_revocations_made_elsewhere_before_the_outage_hold(proxied_app: tuple[Any, CuttableProxy],  # noqa: F811
                                                           elsewhere: Storage,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    app, proxy = proxied_app
    monkeypatch.setattr(revocations, "SYNC_INTERVAL_S", 0.0)
    client = app.test_client()
    revoked_clear = make_token(app, "dispatcher", name="to-be-revoked")
    revoked = {"Authorization": f"Bearer {revoked_clear}"}
    kept = {"Authorization": f"Bearer {make_token(app, 'dispatcher', name='kept')}"}
    # Both tokens verified, two links opened, one page login, while the database is there.
    for headers in (revoked, kept):
        assert client.post("/api/v1/locate", json=POINT, headers=headers).status_code == 200
    link_revoked, link_kept = _link(client, kept), _link(client, kept)
    for link in (link_revoked, link_kept):
        assert client.get(link["url"], headers=HTML).status_code == 200
    with elsewhere.transaction() as s:
        user = accounts.create_user(s, username="outage-disp", password=PASSWORD, role="dispatcher",
                                    unit_code=None, actor="test")
        user_id = user.id
    browser = app.test_client()
    r = browser.post("/login", data={"username": "outage-disp", "password": PASSWORD,
                                     "csrf_token": page_csrf(browser)})
    assert r.status_code == 302
    assert browser.get("/", headers=HTML).status_code == 200

    # Another host revokes the token and a link and disables the user; this process is not told.
    with elsewhere.transaction() as s:
        accounts.revoke_token(s, _token_id(elsewhere, revoked_clear), actor="elsewhere")
        officer_links.revoke_link(s, link_revoked["jti"], actor="elsewhere")
        accounts.update_user_from_body(s, user_id, {"disabled": True}, actor="elsewhere")
    assert client.get("/health").get_json()["status"] == "ok"  # any request: the revocation list is read

    proxy.cut()
    try:
        r = client.post("/api/v1/locate", json=POINT, headers=revoked)
        assert r.status_code == 401 and r.get_json()["code"] == "TOKEN_INVALID"
        assert client.post("/api/v1/locate", json=POINT, headers=kept).status_code == 200  # degraded mode works
        r = client.get(link_revoked["url"], headers=HTML)
        assert r.status_code == 410 and "Traceback" not in r.get_data(as_text=True)
        assert client.get(link_kept["url"], headers=HTML).status_code == 200
        assert client.get("/health").get_json()["status"] == "degraded"
        assert browser.get("/", headers=HTML).status_code == 302  # the ended login stays ended
    finally:
        proxy.restore()
    assert client.post("/api/v1/locate", json=POINT, headers=revoked).status_code == 401


def test_revocations_made_here_hold_during_the_outage(proxied_app: tuple[Any, CuttableProxy]) -> None:  # noqa: F811
    app, proxy = proxied_app
    client = app.test_client()
    admin = {"Authorization": f"Bearer {make_token(app, 'admin', name='here-admin')}"}
    clear = make_token(app, "dispatcher", name="here-revoked")
    disp = {"Authorization": f"Bearer {clear}"}
    assert client.post("/api/v1/locate", json=POINT, headers=disp).status_code == 200
    link = _link(client, disp)
    assert client.get(link["url"], headers=HTML).status_code == 200
    assert client.post(f"/api/v1/tokens/{_token_id(app.extensions['geo_service'].storage, clear)}/revoke",
                       headers=admin).status_code == 200
    assert client.post(f"/api/v1/officer-links/{link['jti']}/revoke", headers=admin).status_code == 200
    proxy.cut()
    try:
        r = client.post("/api/v1/locate", json=POINT, headers=disp)
        assert r.status_code == 401 and r.get_json()["code"] == "TOKEN_INVALID"
        r = client.get(link["url"], headers=HTML)
        assert r.status_code == 410, r.get_data(as_text=True)[:300]
    finally:
        proxy.restore()


def test_a_revocation_shared_through_redis_holds_at_once(proxied_app: tuple[Any, CuttableProxy],  # noqa: F811
                                                         elsewhere: Storage,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """With Redis, a revocation made on another host holds here before this process reads the database."""
    need(_redis_up(), "Redis is not running on 127.0.0.1:6379")
    app, proxy = proxied_app
    monkeypatch.setattr(revocations, "SYNC_INTERVAL_S", 3600.0)  # this process never reads the list again
    app.extensions["geo_service"].revocations = revocations.RevocationList(REDIS_URL)
    client = app.test_client()
    clear = make_token(app, "dispatcher", name="redis-revoked")
    disp = {"Authorization": f"Bearer {clear}"}
    assert client.post("/api/v1/locate", json=POINT, headers=disp).status_code == 200
    # The other host's revoke view: the database row, then the shared list.
    with elsewhere.transaction() as s:
        row: ApiToken = accounts.revoke_token(s, _token_id(elsewhere, clear), actor="elsewhere")
        token_hash = row.token_hash
    revocations.RevocationList(REDIS_URL).add("token", token_hash)
    proxy.cut()
    try:
        r = client.post("/api/v1/locate", json=POINT, headers=disp)
        assert r.status_code == 401 and r.get_json()["code"] == "TOKEN_INVALID"
    finally:
        proxy.restore()
