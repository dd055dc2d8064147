"""Real requests through the app for every documented operation (success and the main error answers).

:func:`run_exchanges` drives one fresh app through the whole API and returns every request/answer pair;
``tests/web/test_openapi_answers.py`` validates each answer body against the generated OpenAPI document.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from geo_service.geo.bundled import BOUNDARIES_DIR
from tests.conftest import make_token

NEGARA = {"lat": -8.3582, "lon": 114.6190}
DENPASAR = {"lat": -8.65, "lon": 115.216}
CALL_HEADER = "call_id,started_at,answered_at,ended_at,answered_by,routed_to,caller_unit,outcome,incident_id\n"
CALL_ROWS = (
    "oa-1,2034-06-02T09:00:00+08:00,2034-06-02T09:00:07+08:00,2034-06-02T09:03:00+08:00,51.71,51.71,,emergency,\n"
    "oa-2,2034-06-02T10:00:00+08:00,,2034-06-02T10:00:40+08:00,,51.71;51,,abandoned,\n"
    "oa-3,2034-06-03T11:00:00+08:00,,2034-06-03T11:00:10+08:00,,51.02,,nonsense,\n"
)


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, with the route rule that served it."""

    method: str
    rule: str
    url: str
    status: int
    mimetype: str
    body: bytes
    request_mimetype: str | None


class Driver:
    """A test client that records every exchange."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.client = app.test_client()
        self.tokens = {r: make_token(app, r, name=f"openapi-{r}") for r in ("admin", "supervisor", "dispatcher",
                                                                              "officer")}
        self.exchanges: list[Exchange] = []

    def auth(self, role: str | None) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}

    def call(self, method: str, url: str, role: str | None = "admin", *, expect: int | tuple[int, ...],
             **kwargs: Any) -> Any:
        headers = {**self.auth(role), **kwargs.pop("headers", {})}
        resp = self.client.open(url, method=method, headers=headers, **kwargs)
        expected = (expect,) if isinstance(expect, int) else expect
        assert resp.status_code in expected, f"{method} {url} -> {resp.status_code}: {resp.get_data(as_text=True)[:500]}"
        adapter = self.app.url_map.bind("localhost")
        rule, _args = adapter.match(url.split("?")[0], method=method, return_rule=True)
        content_type = headers.get("Content-Type") or kwargs.get("content_type")
        if "json" in kwargs:
            content_type = "application/json"
        self.exchanges.append(Exchange(method, rule.rule, url, resp.status_code, resp.mimetype, resp.get_data(),
                                       content_type.split(";")[0] if content_type else None))
        return resp

    def get(self, url: str, role: str | None = "admin", *, expect: int | tuple[int, ...] = 200, **kw: Any) -> Any:
        return self.call("GET", url, role, expect=expect, **kw)

    def post(self, url: str, role: str | None = "admin", *, expect: int | tuple[int, ...] = 200, **kw: Any) -> Any:
        return self.call("POST", url, role, expect=expect, **kw)

    def patch(self, url: str, role: str | None = "admin", *, expect: int | tuple[int, ...] = 200, **kw: Any) -> Any:
        return self.call("PATCH", url, role, expect=expect, **kw)


def _meta_and_coordinates(d: Driver) -> None:
    d.get("/health", None)
    d.get("/api/v1/openapi.json", None)
    d.post("/api/v1/coordinates/validate", "dispatcher", json={"text": "8°21'29.5\" LS 114°37'11.3\" BT"})
    d.post("/api/v1/coordinates/validate", "dispatcher", json={"lat": 8.3582, "lon": 114.619})
    d.post("/api/v1/coordinates/validate", "dispatcher", json={"text": "Desa Baler Bale Agung, Negara"})
    d.post("/api/v1/coordinates/validate", "dispatcher", json={"text": "bukan koordinat"})
    d.post("/api/v1/coordinates/validate", "dispatcher", expect=400, data=b"{nope",
           headers={"Content-Type": "application/json"})
    d.post("/api/v1/coordinates/validate", "dispatcher", expect=415, data=b"lat=1",
           headers={"Content-Type": "application/x-www-form-urlencoded"})
    d.post("/api/v1/coordinates/validate", None, expect=401, json=NEGARA)
    d.post("/api/v1/coordinates/validate", "officer", expect=403, json=NEGARA)
    d.post("/api/v1/coordinates/validate/batch", "dispatcher", json=[NEGARA, {"text": "-8,65 115,216"}, {}])
    d.post("/api/v1/coordinates/validate/batch", "dispatcher", data=b"lat,lon\n-8.3582,114.619\n",
           headers={"Content-Type": "text/csv"})
    d.post("/api/v1/coordinates/validate/batch", "dispatcher", expect=400, json={"lat": 1})
    d.post("/api/v1/coordinates/validate/batch", "dispatcher", expect=400, data="Áï\x91Ðë".encode(),
           headers={"Content-Type": "text/csv"})  # found by schemathesis: no delimiter was a 500
    d.post("/api/v1/locate", "dispatcher", json=NEGARA)
    d.post("/api/v1/locate", "dispatcher", json={**DENPASAR, "uncertainty_m": 2000})
    d.post("/api/v1/locate", "dispatcher", json={"lat": -8.9, "lon": 115.0})  # at sea
    d.post("/api/v1/locate", "dispatcher", json={"text": "Desa Baler Bale Agung, Negara"})
    d.post("/api/v1/locate", "dispatcher", json={**NEGARA, "at": "2024-06-01T10:00:00+08:00"})
    d.post("/api/v1/locate", "dispatcher", expect=400, json={"lat": "x", "lon": []})
    d.post("/api/v1/locate/batch", "dispatcher", json=[NEGARA, {"text": "nope"}])
    d.post("/api/v1/locate/batch", "dispatcher", data=b"lat,lon\n-8.3582,114.619\n", headers={"Content-Type": "text/csv"})
    geojson = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [114.619, -8.3582]}, "properties": {"id": 1}}]}
    d.post("/api/v1/locate/batch", "dispatcher", data=json.dumps(geojson).encode(),
           headers={"Content-Type": "application/geo+json"})
    broken = {"type": "FeatureCollection", "features": [None, {"type": "Feature", "properties": [1], "geometry": None}]}
    d.post("/api/v1/locate/batch", "dispatcher", data=json.dumps(broken).encode(),
           headers={"Content-Type": "application/geo+json"})  # found by schemathesis: was a 500
    d.post("/api/v1/locate/batch", "dispatcher", expect=415, data=b"x", headers={"Content-Type": "text/plain"})


def _units_and_places(d: Driver) -> None:
    d.get("/api/v1/units?level=polres&simplify=0.01", "officer")
    d.get("/api/v1/units?level=polda&at=2024-06-01T10:00:00%2B08:00", "officer")
    d.get("/api/v1/units?level=nope", "officer", expect=400)
    d.get("/api/v1/units/51.01", "officer")
    d.get("/api/v1/units/99.99", "officer", expect=404)
    d.get("/api/v1/places?q=Baler%20Bale%20Agung&limit=3", "dispatcher")
    d.get("/api/v1/places?q=", "dispatcher", expect=400)


def _incidents(d: Driver) -> int:
    body = {"location": NEGARA, "category": "pencurian", "description": "uji", "channel": "call_110",
            "reported_at": "2026-11-28T14:05:00+08:00"}
    created = d.post("/api/v1/incidents", "dispatcher", expect=201, json=body).get_json()
    d.post("/api/v1/incidents", "dispatcher", expect=201, json={**body, "location": {"text": "nowhere at all"}})
    d.post("/api/v1/incidents", "dispatcher", expect=400, json={**body, "category": 7})
    d.post("/api/v1/incidents", "dispatcher", expect=422, json={**body, "category": "unknown"})
    incident_id = created["id"]
    d.get("/api/v1/incidents?per_page=5", "supervisor")
    d.get("/api/v1/incidents?format=csv", "supervisor")
    d.get("/api/v1/incidents?status=nope", "supervisor", expect=400)
    d.get(f"/api/v1/incidents/{incident_id}", "officer")
    d.get("/api/v1/incidents/987654", "officer", expect=404)
    d.patch(f"/api/v1/incidents/{incident_id}", "dispatcher", json={"version": 1, "status": "dalam_proses"})
    d.patch(f"/api/v1/incidents/{incident_id}", "dispatcher", expect=409, json={"version": 1, "note": "x"})
    d.patch(f"/api/v1/incidents/{incident_id}", "dispatcher", expect=400, json={"version": 2, "colour": "red"})
    d.get("/api/v1/reports/weekly?unit=51&week=2026-W48", "supervisor")
    d.get("/api/v1/reports/weekly?unit=51&week=2026-W48&format=csv", "supervisor")
    d.get("/api/v1/reports/weekly?unit=51&week=2026-W99", "supervisor", expect=400)
    d.get(f"/api/v1/incidents/{incident_id}/milestones", "supervisor")
    d.get("/api/v1/incidents/987654/milestones", "supervisor", expect=404)
    tap = {"kind": "on_scene", "key": "openapi-tap-0001", **NEGARA, "accuracy_m": 10}
    d.post(f"/api/v1/incidents/{incident_id}/milestones", "dispatcher", expect=201, json=tap)
    d.post(f"/api/v1/incidents/{incident_id}/milestones", "dispatcher", expect=200, json=tap)
    d.post(f"/api/v1/incidents/{incident_id}/milestones", "dispatcher", expect=400, json={"kind": "nope"})
    bad = d.post(f"/api/v1/incidents/{incident_id}/milestones", "dispatcher", expect=400,
                 json={"kind": "on_scene", "lat": "north", "lon": 114.6}).get_json()
    assert (bad["code"], bad["errors"][0]["pointer"]) == ("BODY_INVALID", "/lat"), bad  # decoded by type
    d.get(f"/api/v1/incidents/{incident_id}/milestones", "supervisor")
    return incident_id


def _calls(d: Driver, incident_id: int) -> None:
    one = {"call_id": "oa-json-1", "started_at": "2034-06-10T08:00:00+08:00",
           "answered_at": "2034-06-10T08:00:04+08:00", "ended_at": "2034-06-10T08:02:00+08:00",
           "answered_by": "51.71", "routed_to": ["51.71"], "outcome": "information", "incident_id": incident_id}
    d.post("/api/v1/calls", "dispatcher", expect=201, json=one)
    d.post("/api/v1/calls", "dispatcher", expect=200, json=[one])
    d.post("/api/v1/calls", "dispatcher", expect=422, json={**one, "call_id": "oa-json-2", "routed_to": []})
    d.post("/api/v1/calls/import", "supervisor", expect=(200, 201), data=(CALL_HEADER + CALL_ROWS).encode(),
           headers={"Content-Type": "text/csv"})
    d.post("/api/v1/calls/import", "supervisor", expect=(200, 201), content_type="multipart/form-data",
           data={"file": (io.BytesIO((CALL_HEADER + CALL_ROWS).encode()), "calls.csv")})
    d.post("/api/v1/calls/import", "supervisor", expect=422, data=(CALL_HEADER + CALL_ROWS.splitlines()[-1]).encode(),
           headers={"Content-Type": "text/csv"})
    d.get("/api/v1/reports/calls?unit=51&from=2034-06-01&to=2034-06-30", "supervisor")
    d.get("/api/v1/reports/calls?unit=51&month=2034-06&format=csv", "supervisor")
    d.get("/api/v1/reports/calls?unit=51&month=2034-06&format=xlsx", "supervisor")
    d.get("/api/v1/reports/calls?unit=51&week=2034-W99", "supervisor", expect=400)
    d.get("/api/v1/reports/calls?unit=51&month=2034-06", "dispatcher", expect=403)


def _links_and_location_requests(d: Driver, incident_id: int) -> None:
    link = d.post("/api/v1/officer-links", "dispatcher", expect=201, json=NEGARA).get_json()
    page = d.post("/api/v1/officer-links", "dispatcher", expect=201, json={"incident_id": incident_id}).get_json()
    tap = {"kind": "acknowledged", "key": "openapi-tap-0002", **NEGARA, "accuracy_m": 8}
    d.post(f"{page['url']}/milestones", None, expect=201, json=tap)
    d.post(f"{page['url']}/milestones", None, expect=200, json=tap)
    d.post(f"{page['url']}/milestones", None, expect=400, json={"kind": "dispatched"})
    d.post(f"{page['url'][:-3]}xyz/milestones", None, expect=403, json=tap)
    d.post("/api/v1/officer-links", "dispatcher", expect=422, json={"incident_id": "seven"})
    d.post("/api/v1/officer-links", "dispatcher", expect=404, json={"incident_id": 987654})
    d.post(f"/api/v1/officer-links/{link['jti']}/revoke", "dispatcher")
    d.post("/api/v1/officer-links/nope/revoke", "dispatcher", expect=404)
    lr = d.post("/api/v1/location-requests", "dispatcher", expect=201,
                json={"incident_id": incident_id, "phone": "+62 812 3456 7890"}).get_json()
    d.post("/api/v1/location-requests", "dispatcher", expect=400, json={"lang": "fr"})
    d.get(f"/api/v1/location-requests/{lr['id']}", "dispatcher")
    d.get("/api/v1/location-requests/nope", "dispatcher", expect=404)
    d.get(f"/api/v1/location-requests/{lr['id']}?wait=x", "dispatcher", expect=400)
    d.post(lr["url"], None, expect=400, json={"source": "gps", "lat": 1000})
    d.post(lr["url"], None, json={"source": "gps", **NEGARA, "accuracy_m": 12.0})
    d.post(lr["url"], None, expect=409, json={"source": "denied"})
    d.get(f"/api/v1/location-requests/{lr['id']}", "dispatcher")
    denied = d.post("/api/v1/location-requests", "dispatcher", expect=201, json={}).get_json()
    d.post(denied["url"], None, json={"source": "denied"})
    d.get(f"/api/v1/location-requests/{denied['id']}", "dispatcher")
    d.post("/l/AAAAAAAAAAAAAAAAAAAAAAAAAAAA", None, expect=404, json={"source": "denied"})


def _accounts(d: Driver) -> None:
    tok = d.post("/api/v1/tokens", expect=201, json={"name": "openapi-desk", "role": "dispatcher",
                                                     "unit_code": "51.01", "expires_in_days": 30}).get_json()
    d.post("/api/v1/tokens", expect=(400, 422), json={"name": "", "role": "king"})
    d.get("/api/v1/tokens")
    d.post(f"/api/v1/tokens/{tok['id']}/revoke")
    d.post("/api/v1/tokens/987654/revoke", expect=404)
    d.get("/api/v1/tokens", "dispatcher", expect=403)
    user = d.post("/api/v1/users", expect=201, json={"username": "openapi-user", "password": "a long enough pass 123",
                                                     "role": "supervisor", "unit_code": "51.01"}).get_json()
    d.post("/api/v1/users", expect=409, json={"username": "openapi-user", "password": "a long enough pass 123",
                                              "role": "supervisor"})
    d.post("/api/v1/users", expect=(400, 422), json={"username": "x", "password": "short", "role": "supervisor"})
    d.get("/api/v1/users")
    d.patch(f"/api/v1/users/{user['id']}", json={"disabled": True, "unit_code": None})
    d.patch(f"/api/v1/users/{user['id']}", expect=422, json={"colour": "red"})
    d.patch("/api/v1/users/987654", expect=404, json={"disabled": True})


def _sets(d: Driver) -> None:
    polres = (BOUNDARIES_DIR / "bali_kabupaten_kota.geojson").read_bytes()
    created = d.post("/api/v1/boundary-sets", expect=201, content_type="multipart/form-data",
                     data={"file": (io.BytesIO(polres), "polres.geojson"), "level": "polres",
                           "name": "openapi"}).get_json()
    d.post("/api/v1/boundary-sets", expect=(400, 415, 422), content_type="multipart/form-data",
           data={"file": (io.BytesIO(b"not a boundary file"), "x.geojson"), "level": "polres"})
    d.post("/api/v1/boundary-sets", expect=400, content_type="multipart/form-data", data={"level": "polres"})
    d.get("/api/v1/boundary-sets")
    sets = d.get(f"/api/v1/boundary-sets/{created['id']}").get_json()
    d.get("/api/v1/boundary-sets/987654", expect=404)
    d.get(f"/api/v1/boundary-sets/{created['id']}/diff")
    d.get("/api/v1/boundary-sets/987654/diff", expect=404)
    published = d.get("/api/v1/boundary-sets").get_json()["published"]
    d.get(f"/api/v1/boundary-sets/{published}/diff?against={created['id']}")
    if sets["has_errors"]:
        d.post(f"/api/v1/boundary-sets/{created['id']}/publish", expect=409)
    d.post(f"/api/v1/boundary-sets/{published}/publish")
    d.post("/api/v1/boundary-sets/987654/publish", expect=404)
    stations = (BOUNDARIES_DIR / "sample_stations.geojson").read_bytes()
    sset = d.post("/api/v1/station-sets", expect=201, content_type="multipart/form-data",
                  data={"file": (io.BytesIO(stations), "stations.geojson"), "name": "openapi"}).get_json()
    d.post("/api/v1/station-sets", expect=201, content_type="multipart/form-data",
           data={"file": (io.BytesIO(b"code,name,lat,lon\nS-1,Pos,-8.3582,114.619\n"), "stations.csv")})
    d.post("/api/v1/station-sets", expect=(400, 422), content_type="multipart/form-data",
           data={"file": (io.BytesIO(b"not stations"), "stations.geojson")})
    d.post(f"/api/v1/station-sets/{sset['id'] + 1}/publish", expect=409)  # the CSV set names no unit
    d.get("/api/v1/station-sets")
    d.get(f"/api/v1/station-sets/{sset['id']}")
    d.get("/api/v1/station-sets/987654", expect=404)
    d.post(f"/api/v1/station-sets/{sset['id']}/publish")


def run_exchanges(app: Any) -> list[Exchange]:
    """Every documented operation, driven through ``app`` (which this changes: use a fresh one)."""
    d = Driver(app)
    _meta_and_coordinates(d)
    _units_and_places(d)
    incident_id = _incidents(d)
    _calls(d, incident_id)
    _links_and_location_requests(d, incident_id)
    _accounts(d)
    _sets(d)
    return d.exchanges
