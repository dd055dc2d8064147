"""Hardening (issue 12, item 8): the input and scope findings of the attacker, each replayed over HTTP
on SQLite and PostGIS.

* deeply nested JSON was a 500 (now 400 ``JSON_TOO_DEEP``), ``NaN`` inside an incident's
  ``location`` was stored and answered as invalid JSON (PostgreSQL refused it as "a number out of
  range"), 10 MB of junk under ``location`` was kept, ``reported_at`` in year 9999 was accepted;
* a unit-scoped dispatcher could change another unit's (unassigned) call and any dispatcher could
  revoke another unit's officer link.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from geo_service.storage.models import Incident, OfficerLink
from tests.conftest import dispose_app, make_app, make_token

JSON = {"Content-Type": "application/json"}
BADUNG_POINT = {"lat": -8.549129, "lon": 115.185428}  # Mengwi, Polres Badung (51.03); Kuta Selatan is Polresta Denpasar's


@pytest.fixture(scope="module")
def xapp(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    application = make_app(backend, tmp_path_factory.mktemp(f"hardening-inputs-{backend}"))
    yield application
    dispose_app(application)


@pytest.fixture(scope="module")
def hdr(xapp: Any) -> Callable[..., dict[str, str]]:
    """hdr(role='dispatcher', unit=None) -> Authorization header (tokens cached)."""
    cache: dict[tuple[str, str | None], str] = {}

    def get(role: str = "dispatcher", unit: str | None = None) -> dict[str, str]:
        if (role, unit) not in cache:
            cache[(role, unit)] = make_token(xapp, role, unit=unit, name=f"{role}-{unit}")
        return {"Authorization": f"Bearer {cache[(role, unit)]}"}

    return get


@pytest.fixture()
def c(xapp: Any) -> Any:
    return xapp.test_client()


def _body(**changes: Any) -> dict[str, Any]:
    body = {"location": dict(BADUNG_POINT), "category": "lainnya", "channel": "call_110",
            "reported_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat()}
    body.update(changes)
    return body


def _count(xapp: Any) -> int:
    with xapp.extensions["geo_service"].storage.session() as s:
        return int(s.execute(select(func.count(Incident.id))).scalar_one())


def _problem(resp: Any, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["code"] == code and body["status"] == status
    return body


# ------------------------------------------------------------------ nested JSON


@pytest.mark.parametrize("path", ["/api/v1/locate", "/api/v1/coordinates/validate", "/api/v1/incidents",
                                  "/api/v1/coordinates/validate/batch", "/api/v1/locate/batch"])
def test_deeply_nested_json_is_a_400_not_a_500(c: Any, hdr: Any, path: str) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    _problem(c.post(path, data=deep, headers={**hdr(), **JSON}), 400, "JSON_TOO_DEEP")


def test_nesting_below_the_recursion_limit_is_refused_too(c: Any, hdr: Any) -> None:
    body = {"lat": -8.65, "lon": 115.2, "x": json.loads("[" * 40 + "]" * 40)}
    _problem(c.post("/api/v1/locate", data=json.dumps(body), headers={**hdr(), **JSON}), 400, "JSON_TOO_DEEP")
    ok = {"lat": -8.65, "lon": 115.2, "x": json.loads("[" * 10 + "]" * 10)}
    assert c.post("/api/v1/locate", data=json.dumps(ok), headers={**hdr(), **JSON}).status_code == 200


# ------------------------------------------------------------------ NaN, junk, reported_at


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_inside_location_is_refused_and_nothing_is_stored(xapp: Any, c: Any, hdr: Any, constant: str) -> None:
    before = _count(xapp)
    raw = json.dumps(_body(location={"lat": -8.8, "lon": 115.16, "accuracy": 1.5})).replace("1.5", constant)
    assert constant in raw
    body = _problem(c.post("/api/v1/incidents", data=raw, headers={**hdr(), **JSON}), 400, "JSON_INVALID")
    assert constant in body["detail"]
    _problem(c.post("/api/v1/locate", data=raw.replace('"accuracy"', '"x"'), headers={**hdr(), **JSON}), 400,
             "JSON_INVALID")
    assert _count(xapp) == before


def test_junk_under_location_is_not_kept(xapp: Any, c: Any, hdr: Any) -> None:
    junk = "x" * (2 * 1024 * 1024)
    r = c.post("/api/v1/incidents", json=_body(location={**BADUNG_POINT, "junk": junk, "more": {"a": [junk]}}),
               headers=hdr())
    assert r.status_code == 201, r.get_json()
    incident_id = r.get_json()["id"]
    with xapp.extensions["geo_service"].storage.session() as s:
        raw = s.get(Incident, incident_id).raw_location
    assert raw == BADUNG_POINT
    assert len(c.get(f"/api/v1/incidents/{incident_id}", headers=hdr()).get_data()) < 100_000
    long_text = "-8.8 115.16 " + "a" * 5000
    body = _problem(c.post("/api/v1/incidents", json=_body(location={"text": long_text}), headers=hdr()), 422,
                    "INVALID_INPUT")
    assert body["errors"][0]["pointer"] == "/location/text"


@pytest.mark.parametrize("reported_at", ["9999-12-31T10:00:00+08:00", "9999-12-31T23:59:59-12:00",
                                         "0001-01-01T00:00:00+14:00", "1999-12-31T23:00:00+07:00"])
def test_reported_at_outside_the_plausible_range_is_refused(xapp: Any, c: Any, hdr: Any, reported_at: str) -> None:
    before = _count(xapp)
    body = _problem(c.post("/api/v1/incidents", json=_body(reported_at=reported_at), headers=hdr()), 422,
                    "INVALID_INPUT")
    assert [e["pointer"] for e in body["errors"]] == ["/reported_at"]
    assert _count(xapp) == before


def test_reported_at_ahead_only_within_the_horizon(c: Any, hdr: Any) -> None:
    soon = (datetime.now(UTC) + timedelta(days=365)).astimezone().isoformat()
    assert c.post("/api/v1/incidents", json=_body(reported_at=soon), headers=hdr()).status_code == 201
    later = (datetime.now(UTC) + timedelta(days=11 * 366)).isoformat()
    _problem(c.post("/api/v1/incidents", json=_body(reported_at=later), headers=hdr()), 422, "INVALID_INPUT")


# ------------------------------------------------------------------ unit scope


def _create(c: Any, hdr: Any, location: dict[str, Any]) -> dict[str, Any]:
    r = c.post("/api/v1/incidents", json=_body(location=location), headers=hdr())
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_scoped_dispatcher_cannot_patch_another_units_incident(c: Any, hdr: Any) -> None:
    badung = _create(c, hdr, BADUNG_POINT)
    assert badung["unit"]["polres"]["code"] == "51.03"
    denpasar = hdr("dispatcher", "51.71")
    for change in ({"status": "dalam_proses"}, {"note": "bukan urusan kami"},
                   {"unit_code": "51.71.01", "note": "ambil alih"}):
        _problem(c.patch(f"/api/v1/incidents/{badung['id']}", json={"version": 1, **change}, headers=denpasar),
                 403, "OUT_OF_SCOPE")
    assert c.get(f"/api/v1/incidents/{badung['id']}", headers=hdr()).get_json()["version"] == 1
    r = c.patch(f"/api/v1/incidents/{badung['id']}", json={"version": 1, "status": "dalam_proses"},
                headers=hdr("dispatcher", "51.03"))
    assert r.status_code == 200 and r.get_json()["version"] == 2


def test_unassigned_call_is_claimed_not_changed_by_a_scoped_dispatcher(c: Any, hdr: Any) -> None:
    unassigned = _create(c, hdr, {"text": "dekat warung Bu Made"})
    assert unassigned["unit"] == {"polda": None, "polres": None, "polsek": None}
    url = f"/api/v1/incidents/{unassigned['id']}"
    denpasar = hdr("dispatcher", "51.71")
    _problem(c.patch(url, json={"version": 1, "status": "dibatalkan"}, headers=denpasar), 403, "OUT_OF_SCOPE")
    _problem(c.patch(url, json={"version": 1, "unit_code": "51.03.05", "note": "ke Badung"}, headers=denpasar),
             403, "OUT_OF_SCOPE")
    r = c.patch(url, json={"version": 1, "unit_code": "51.71.01", "note": "di Denpasar Selatan"}, headers=denpasar)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["unit"]["polres"]["code"] == "51.71"
    assert c.patch(url, json={"version": 2, "status": "dalam_proses"}, headers=denpasar).status_code == 200
    # The central (unscoped) desk may change any call.
    other = _create(c, hdr, {"text": "tidak jelas"})
    assert c.patch(f"/api/v1/incidents/{other['id']}", json={"version": 1, "status": "dibatalkan"},
                   headers=hdr()).status_code == 200


def test_dispatcher_cannot_revoke_another_units_officer_link(xapp: Any, c: Any, hdr: Any) -> None:
    incident = _create(c, hdr, BADUNG_POINT)
    for body in ({"incident_id": incident["id"]}, dict(BADUNG_POINT)):
        link = c.post("/api/v1/officer-links", json=body, headers=hdr()).get_json()
        revoke = f"/api/v1/officer-links/{link['jti']}/revoke"
        _problem(c.post(revoke, headers=hdr("dispatcher", "51.71")), 403, "OUT_OF_SCOPE")
        with xapp.extensions["geo_service"].storage.session() as s:
            row = s.execute(select(OfficerLink).where(OfficerLink.jti == link["jti"])).scalar_one()
            assert row.revoked_at is None
        assert c.get(link["url"], headers={"Accept": "text/html"}).status_code == 200
        assert c.post(revoke, headers=hdr("dispatcher", "51.03")).status_code == 200
        assert c.get(link["url"], headers={"Accept": "text/html"}).status_code == 410
    # The dispatcher who made a link may always revoke it; so may the unscoped desk.
    own = c.post("/api/v1/officer-links", json=dict(BADUNG_POINT), headers=hdr("dispatcher", "51.71")).get_json()
    assert c.post(f"/api/v1/officer-links/{own['jti']}/revoke", headers=hdr("dispatcher", "51.71")).status_code == 200
    desk = c.post("/api/v1/officer-links", json=dict(BADUNG_POINT), headers=hdr("dispatcher", "51.03")).get_json()
    assert c.post(f"/api/v1/officer-links/{desk['jti']}/revoke", headers=hdr()).status_code == 200
