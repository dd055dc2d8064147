"""Officer links over the API (issue 7): create for a location or an incident, open, revoke, expire,
tamper, and the audit record of each create and revoke."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from geo_service.storage.models import AuditLog, OfficerLink
from geo_service.storage.types import utcnow
from tests.conftest import dispose_app, make_app, make_token

HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def lapp(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    application = make_app(backend, tmp_path_factory.mktemp(f"links-{backend}"))
    if "accounts_api" not in application.blueprints:
        from geo_service.web.accounts_api import bp

        application.register_blueprint(bp)
    yield application
    dispose_app(application)


@pytest.fixture(scope="module")
def disp(lapp: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(lapp, 'dispatcher', name='disp1')}"}


def _audit(app: Any, action: str, target_id: str) -> list[AuditLog]:
    with app.extensions["geo_service"].storage.session() as s:
        return list(s.execute(select(AuditLog).where(AuditLog.action == action,
                                                     AuditLog.target_id == target_id)).scalars())


def test_link_for_a_location_opens_and_can_be_revoked(lapp: Any, disp: dict[str, str]) -> None:
    c = lapp.test_client()
    r = c.post("/api/v1/officer-links", headers=disp, json={"text": "-8.6705, 115.2126"})
    assert r.status_code == 201, r.get_json()
    link = r.get_json()
    assert link["url"].startswith("/p/") and link["jti"] and link["expires_at"]
    page = c.get(link["url"], headers=HTML)
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "-8.6705" in text and "115.2126" in text
    assert page.headers["Cache-Control"] == "no-store"

    (created,) = _audit(lapp, "officer_link.create", link["jti"])
    assert created.actor == "token:disp1" and created.request_id

    r = c.post(f"/api/v1/officer-links/{link['jti']}/revoke", headers=disp)
    assert r.status_code == 200 and r.get_json()["revoked"] is True
    assert c.get(link["url"], headers=HTML).status_code == 410
    assert len(_audit(lapp, "officer_link.revoke", link["jti"])) == 1
    assert c.post("/api/v1/officer-links/nope/revoke", headers=disp).status_code == 404


def test_link_for_an_incident_uses_its_stored_location(lapp: Any, disp: dict[str, str]) -> None:
    c = lapp.test_client()
    r = c.post("/api/v1/incidents", headers=disp, json={
        "location": {"text": "8°40'13.8\" LS 115°12'45.4\" BT"}, "category": "kecelakaan",
        "description": "uji", "reported_at": utcnow().isoformat(), "channel": "call_110"})
    assert r.status_code == 201
    incident = r.get_json()
    r = c.post("/api/v1/officer-links", headers=disp, json={"incident_id": incident["id"]})
    assert r.status_code == 201, r.get_json()
    link = r.get_json()
    assert link["incident_id"] == incident["id"]
    with lapp.extensions["geo_service"].storage.session() as s:
        row = s.execute(select(OfficerLink).where(OfficerLink.jti == link["jti"])).scalar_one()
    stored = incident["location"]["point"]
    assert row.incident_id == incident["id"]
    assert (row.payload["lat"], row.payload["lon"]) == (stored["lat"], stored["lon"])
    assert row.payload["j"]["polres"] == incident["unit"]["polres"]["code"]
    page = c.get(link["url"], headers=HTML)
    assert page.status_code == 200 and incident["unit"]["polsek"]["name"] in page.get_data(as_text=True)


@pytest.mark.parametrize(("body", "status"), [
    ({"text": "not a place at all"}, 422),
    ({"incident_id": 999999}, 404),
    ({"incident_id": "1"}, 422),
    ({}, 400),
])
def test_bad_link_requests(lapp: Any, disp: dict[str, str], body: dict[str, Any], status: int) -> None:
    r = lapp.test_client().post("/api/v1/officer-links", headers=disp, json=body)
    assert r.status_code == status, r.get_json()
    assert r.mimetype == "application/problem+json"


def test_tampered_and_expired_links(lapp: Any, disp: dict[str, str]) -> None:
    from geo_service.services import officer_links

    c = lapp.test_client()
    url = c.post("/api/v1/officer-links", headers=disp, json={"lat": -8.65, "lon": 115.22}).get_json()["url"]
    token = url.removeprefix("/p/")
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert c.get(f"/p/{tampered}", headers=HTML).status_code == 403
    assert c.get("/p/" + "x" * 5000, headers=HTML).status_code in (403, 414)
    settings = lapp.extensions["geo_service"].settings
    answer = {"point": {"lat": -8.65, "lon": 115.22}, "status": "valid", "match": "inside", "flags": []}
    with lapp.extensions["geo_service"].storage.transaction() as s:
        expired, _ = officer_links.create_link(s, answer, secret=settings.secret_key, ttl_s=-60, actor="test")
    r = c.get(f"/p/{expired}", headers=HTML)
    assert r.status_code == 410 and "Traceback" not in r.get_data(as_text=True)
