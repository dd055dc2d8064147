"""Issue 15 loose ends, over the real HTTP stack on both backends: a caller's answer to a location
request is written into its incident (event, audit, version; a dispatcher's later change is kept),
and a place the caller typed is placed by the gazetteer like ``POST /api/v1/locate``."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from geo_service.storage.models import AuditLog
from geo_service.storage.types import utcnow
from tests.conftest import dispose_app, make_app, make_token

NEGARA = {"lat": -8.3582361, "lon": 114.6197917}  # Polsek Negara, Polres Jembrana
DENPASAR = {"lat": -8.6705, "lon": 115.2126}
PLACE = "Desa Baler Bale Agung"

_names = itertools.count()


@pytest.fixture(scope="module")
def lapp(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    application = make_app(backend, tmp_path_factory.mktemp(f"locreq-inc-{backend}"), load_places=True)
    yield application
    dispose_app(application)


@pytest.fixture()
def disp(lapp: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(lapp, 'dispatcher', name=f'locreq-inc-{next(_names)}')}"}


def _incident(app: Any, headers: dict[str, str], location: dict[str, Any]) -> dict[str, Any]:
    r = app.test_client().post("/api/v1/incidents", headers=headers, json={
        "location": location, "category": "kecelakaan", "description": "uji", "reported_at": utcnow().isoformat(),
        "channel": "call_110"})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _read(app: Any, headers: dict[str, str], incident_id: int) -> dict[str, Any]:
    r = app.test_client().get(f"/api/v1/incidents/{incident_id}", headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _request(app: Any, headers: dict[str, str], incident_id: int | None = None) -> dict[str, Any]:
    body = {} if incident_id is None else {"incident_id": incident_id}
    r = app.test_client().post("/api/v1/location-requests", headers=headers, json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _gps(**extra: Any) -> dict[str, Any]:
    return {**NEGARA, "accuracy_m": 12.0, "timestamp": int(time.time() * 1000), "source": "gps", **extra}


def _audits(app: Any, incident_id: int) -> list[AuditLog]:
    with app.extensions["geo_service"].storage.session() as s:
        return list(s.execute(select(AuditLog).where(AuditLog.action == "incident.caller_location",
                                                     AuditLog.target_id == str(incident_id))).scalars())


def test_a_gps_answer_moves_the_incident_with_an_event_and_an_audit(lapp: Any, disp: dict[str, str]) -> None:
    c = lapp.test_client()
    incident = _incident(lapp, disp, DENPASAR)
    assert incident["unit"]["polres"]["name"] == "Polresta Denpasar"
    lr = _request(lapp, disp, incident["id"])
    answer = _gps()
    assert c.post(lr["url"], json=answer).status_code == 200

    after = _read(lapp, disp, incident["id"])
    assert after["point"] == NEGARA and after["version"] == incident["version"] + 1
    assert after["unit"]["polsek"]["name"] == "Polsek Negara" and after["unit"]["polres"]["name"] == "Polres Jembrana"
    assert after["unit_code"] == after["unit"]["polsek"]["code"]
    assert after["location"]["fix"]["source"] == "gps" and after["location"]["uncertainty_m"] == 12.0
    assert after["raw_location"] == {**NEGARA, "uncertainty_m": 12.0}
    event = after["events"][-1]
    assert (event["kind"], event["actor"], event["version"]) == ("location", "caller", after["version"])
    assert event["from_unit"] == incident["unit_code"] and event["to_unit"] == after["unit_code"]
    assert "location received from the caller's phone" in event["note"]
    assert "gps" in event["note"] and "12 m" in event["note"]
    page = c.get(f"/incidents/{incident['id']}", headers={**disp, "Accept": "text/html"})
    assert page.status_code == 200 and "lokasi diterima dari ponsel penelepon" in page.get_data(as_text=True)
    (audit,) = _audits(lapp, incident["id"])
    assert audit.actor == "caller" and audit.detail["applied"] is True and audit.detail["location_request"] == lr["id"]
    assert audit.detail["to_unit"] == after["unit_code"] and audit.request_id

    # The version moved: a dispatcher holding the old one is told to reload, as after any change.
    r = c.patch(f"/api/v1/incidents/{incident['id']}", headers=disp,
                json={"version": incident["version"], "note": "stale"})
    assert r.status_code == 409 and r.get_json()["code"] == "STALE_VERSION"
    # The phone retrying the same answer (bad network) changes nothing more.
    assert c.post(lr["url"], json=answer).status_code == 200
    assert _read(lapp, disp, incident["id"])["version"] == after["version"]


def test_a_dispatchers_later_reassignment_is_kept_and_the_answer_becomes_a_note(
        lapp: Any, disp: dict[str, str]) -> None:
    c = lapp.test_client()
    incident = _incident(lapp, disp, DENPASAR)
    lr = _request(lapp, disp, incident["id"])
    other = "51.71.02" if incident["unit_code"] != "51.71.02" else "51.71.03"
    r = c.patch(f"/api/v1/incidents/{incident['id']}", headers=disp,
                json={"version": incident["version"], "unit_code": other, "note": "the caller moved"})
    assert r.status_code == 200, r.get_json()
    moved = r.get_json()
    assert c.post(lr["url"], json=_gps()).status_code == 200

    after = _read(lapp, disp, incident["id"])
    assert after["point"] == incident["point"] and after["unit_code"] == other  # not overwritten
    assert after["version"] == moved["version"] + 1
    event = after["events"][-1]
    assert (event["kind"], event["actor"]) == ("note", "caller")
    assert "location received from the caller's phone" in event["note"] and "not applied" in event["note"]
    assert f"{NEGARA['lat']:.6f}" in event["note"] and "dispatcher" in event["note"]
    (audit,) = _audits(lapp, incident["id"])
    assert audit.detail["applied"] is False and "dispatcher" in audit.detail["why_not"]


def test_a_request_made_after_the_reassignment_moves_the_incident(lapp: Any, disp: dict[str, str]) -> None:
    c = lapp.test_client()
    incident = _incident(lapp, disp, DENPASAR)
    other = "51.71.02" if incident["unit_code"] != "51.71.02" else "51.71.03"
    r = c.patch(f"/api/v1/incidents/{incident['id']}", headers=disp,
                json={"version": incident["version"], "unit_code": other, "note": "first guess"})
    assert r.status_code == 200
    lr = _request(lapp, disp, incident["id"])
    assert c.post(lr["url"], json=_gps(source="pin", accuracy_m=None)).status_code == 200
    after = _read(lapp, disp, incident["id"])
    assert after["point"] == NEGARA and after["unit"]["polsek"]["name"] == "Polsek Negara"
    assert after["events"][-1]["kind"] == "location" and "pin" in after["events"][-1]["note"]


def test_a_closed_incident_keeps_its_location(lapp: Any, disp: dict[str, str]) -> None:
    c = lapp.test_client()
    incident = _incident(lapp, disp, DENPASAR)
    lr = _request(lapp, disp, incident["id"])
    r = c.patch(f"/api/v1/incidents/{incident['id']}", headers=disp,
                json={"version": incident["version"], "status": "dibatalkan", "note": "prank"})
    assert r.status_code == 200
    assert c.post(lr["url"], json=_gps()).status_code == 200
    after = _read(lapp, disp, incident["id"])
    assert after["point"] == incident["point"] and after["status"] == "dibatalkan"
    assert after["events"][-1]["kind"] == "note" and "dibatalkan" in after["events"][-1]["note"]


def test_a_typed_place_is_placed_by_the_gazetteer_like_locate(lapp: Any, disp: dict[str, str]) -> None:
    c = lapp.test_client()
    lr = _request(lapp, disp)
    assert c.post(lr["url"], json={"source": "text", "text": PLACE}).status_code == 200
    state = c.get(f"/api/v1/location-requests/{lr['id']}", headers=disp).get_json()
    assert state["status"] == "received" and state["source"] == "text" and state["text"] == PLACE
    loc = state["location"]
    direct = c.post("/api/v1/locate", headers=disp, json={"text": PLACE}).get_json()
    assert loc["format"] == direct["format"] == "place" and loc["status"] == direct["status"] == "approximate"
    assert loc["point"] == direct["point"] and loc["uncertainty_m"] == direct["uncertainty_m"] > 0
    assert loc["place"]["code"] == direct["place"]["code"] and loc["candidates"] == direct["candidates"]
    assert loc["jurisdiction"] == direct["jurisdiction"] and loc["candidates"]
    # The console's map of the answer shows it (point and circle).
    m = c.get(f"/location-requests/{lr['id']}/map", headers=disp)
    assert m.status_code == 200 and "L.circle" in m.get_data(as_text=True)
    assert "berlaku sejak" in m.get_data(as_text=True) and "Jenis satuan" in m.get_data(as_text=True)  # issue 14


def test_a_typed_place_fills_an_incident_without_a_point_only(lapp: Any, disp: dict[str, str]) -> None:
    c = lapp.test_client()
    unplaced = _incident(lapp, disp, {"text": "di depan pura dekat pasar"})
    assert unplaced["point"] is None and unplaced["unit_code"] is None
    lr = _request(lapp, disp, unplaced["id"])
    assert c.post(lr["url"], json={"source": "text", "text": PLACE}).status_code == 200
    after = _read(lapp, disp, unplaced["id"])
    assert after["point"] is not None and after["unit_code"] and after["location"]["format"] == "place"
    assert after["raw_location"] == {"text": PLACE} and after["events"][-1]["kind"] == "location"
    assert "text" in after["events"][-1]["note"]

    placed = _incident(lapp, disp, DENPASAR)
    lr = _request(lapp, disp, placed["id"])
    assert c.post(lr["url"], json={"source": "text", "text": PLACE}).status_code == 200
    after = _read(lapp, disp, placed["id"])
    assert after["point"] == placed["point"] and after["events"][-1]["kind"] == "note"


def test_an_unreadable_typed_place_stays_text(lapp: Any, disp: dict[str, str]) -> None:
    c = lapp.test_client()
    incident = _incident(lapp, disp, DENPASAR)
    lr = _request(lapp, disp, incident["id"])
    assert c.post(lr["url"], json={"source": "text", "text": "dekat warung bu tini"}).status_code == 200
    state = c.get(f"/api/v1/location-requests/{lr['id']}", headers=disp).get_json()
    assert state["text"] == "dekat warung bu tini" and not (state["location"] or {}).get("point")
    assert _read(lapp, disp, incident["id"])["version"] == incident["version"]  # nothing to write
