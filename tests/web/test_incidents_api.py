"""Incident API: contract, problem+json errors, optimistic locking over HTTP, roles and unit scope,
lists and CSV export, weekly recap endpoint. One app per backend for this module."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import dispose_app, make_app, make_token

WEEK_START = datetime(2025, 2, 3, 0, 0, tzinfo=UTC) - timedelta(hours=8)  # Monday 2025-W06 00:00 WITA


@pytest.fixture(scope="module")
def iapp(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A dedicated app (the incidents blueprint registered if the factory does not yet do it)."""
    application = make_app(backend, tmp_path_factory.mktemp(f"incidents-{backend}"))
    if "incidents" not in application.blueprints:
        from geo_service.web.incidents import bp

        application.register_blueprint(bp)
    yield application
    dispose_app(application)


@pytest.fixture(scope="module")
def hdr(iapp: Any) -> Callable[..., dict[str, str]]:
    """hdr(role, unit=None) -> Authorization header (tokens cached)."""
    cache: dict[tuple[str, str | None], str] = {}

    def get(role: str = "dispatcher", unit: str | None = None) -> dict[str, str]:
        key = (role, unit)
        if key not in cache:
            cache[key] = make_token(iapp, role, unit=unit, name=f"{role}-{unit}")
        return {"Authorization": f"Bearer {cache[key]}"}

    return get


@pytest.fixture()
def c(iapp: Any) -> Any:
    return iapp.test_client()


def _point(iapp: Any, code: str) -> dict[str, float]:
    lon, lat = iapp.extensions["geo_service"].holder.current().reference_point(code)
    return {"lat": lat, "lon": lon}


def _new(c: Any, iapp: Any, hdr: Any, code: str, reported: str, category: str = "pencurian") -> dict[str, Any]:
    r = c.post("/api/v1/incidents", headers=hdr(), json={
        "location": _point(iapp, code), "category": category, "description": "uji",
        "reported_at": reported, "channel": "call_110"})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


@pytest.fixture(scope="module")
def seeded(iapp: Any, hdr: Any) -> dict[str, Any]:
    """Incidents in Denpasar (51.71) and Tabanan (51.02) during 2025-W06."""
    c = iapp.test_client()
    tabanan = iapp.extensions["geo_service"].holder.current().children("51.02")[0].code
    out = {"tabanan": tabanan}
    out["den1"] = _new(c, iapp, hdr, "51.71.01", (WEEK_START + timedelta(hours=10)).isoformat())
    out["den2"] = _new(c, iapp, hdr, "51.71.02", "2025-02-04T09:15:00+08:00", "kebakaran")
    out["tab1"] = _new(c, iapp, hdr, tabanan, "2025-02-05T01:00:00Z", "kdrt")
    r = c.patch(f"/api/v1/incidents/{out['den2']['id']}", headers=hdr(), json={"version": 1, "status": "dalam_proses"})
    assert r.status_code == 200
    return out


def test_create_contract(c: Any, iapp: Any, hdr: Any) -> None:
    r = c.post("/api/v1/incidents", headers=hdr(), json={
        "location": _point(iapp, "51.71.01"), "category": "kecelakaan", "description": "Tabrakan",
        "reported_at": "2032-03-01T14:05:00+08:00", "channel": "aml"})
    assert r.status_code == 201
    body = r.get_json()
    assert r.headers["Location"] == f"/api/v1/incidents/{body['id']}"
    assert {"id", "status", "version", "location", "unit", "category", "description", "channel", "reported_at",
            "created_at", "created_by", "overdue"} <= set(body)
    assert (body["status"], body["version"], body["category"], body["channel"]) == (
        "belum_ditangani", 1, "kecelakaan", "aml")
    assert body["reported_at"] == "2032-03-01T14:05:00+08:00"
    assert body["unit"] == {"polda": {"code": "51", "name": "Polda Bali"},
                            "polres": {"code": "51.71", "name": "Polresta Denpasar"},
                            "polsek": {"code": "51.71.01", "name": body["unit"]["polsek"]["name"]}}
    assert body["location"]["jurisdiction"]["polsek"]["code"] == "51.71.01"
    assert body["created_by"] == "token:dispatcher-None" and body["overdue"] is False


def test_create_with_unusable_location_is_recorded_without_unit(c: Any, hdr: Any) -> None:
    r = c.post("/api/v1/incidents", headers=hdr(), json={
        "location": {"text": "dekat warung Bu Made"}, "category": "lainnya",
        "reported_at": "2032-03-01T14:05:00+08:00", "channel": "call_110"})
    assert r.status_code == 201
    body = r.get_json()
    assert body["unit"] == {"polda": None, "polres": None, "polsek": None} and body["status"] == "belum_ditangani"
    assert body["location"]["status"] == "invalid" and "without a unit" in body["notice"]


@pytest.mark.parametrize(("change", "status", "code", "pointer"), [
    ({"reported_at": "2032-03-01T14:05:00"}, 422, "INVALID_INPUT", "/reported_at"),
    ({"category": "x"}, 422, "INVALID_INPUT", "/category"),
    ({"channel": None}, 400, "BAD_REQUEST", "/channel"),
    ({"location": {"lat": -8.6}}, 400, "BAD_REQUEST", "/location"),
    ({"location": {"text": "-8.6 115.2", "crs": "EPSG:99999"}}, 422, "UNKNOWN_CRS", "/location/crs"),
])
def test_create_errors_are_problem_json(c: Any, iapp: Any, hdr: Any, change: dict[str, Any], status: int,
                                        code: str, pointer: str) -> None:
    body = {"location": _point(iapp, "51.71.01"), "category": "lainnya", "reported_at": "2032-03-01T14:05:00+08:00",
            "channel": "call_110", **change}
    r = c.post("/api/v1/incidents", headers=hdr(), json=body)
    assert r.status_code == status and r.mimetype == "application/problem+json"
    problem = r.get_json()
    assert problem["code"] == code and pointer in [e["pointer"] for e in problem["errors"]]


def test_naive_time_is_named(c: Any, iapp: Any, hdr: Any) -> None:
    r = c.post("/api/v1/incidents", headers=hdr(), json={
        "location": _point(iapp, "51.71.01"), "category": "lainnya", "reported_at": "2032-03-01T14:05:00",
        "channel": "call_110"})
    assert r.status_code == 422 and "+08:00" in r.get_json()["errors"][0]["detail"]
    r = c.post("/api/v1/incidents", headers=hdr(), data="x", content_type="text/plain")
    assert r.status_code == 415


def test_patch_workflow_and_conflicts(c: Any, iapp: Any, hdr: Any) -> None:
    inc = _new(c, iapp, hdr, "51.71.03", "2032-03-02T08:00:00+08:00")
    url = f"/api/v1/incidents/{inc['id']}"
    r = c.patch(url, headers=hdr(), json={"version": 1, "status": "dalam_proses", "note": "unit berangkat"})
    assert r.status_code == 200
    body = r.get_json()
    assert body["version"] == 2 and body["first_action_at"] and [e["kind"] for e in body["events"]] == [
        "created", "status"]
    assert body["events"][1]["note"] == "unit berangkat" and body["events"][1]["actor"] == "token:dispatcher-None"
    stale = c.patch(url, headers=hdr(), json={"version": 1, "status": "selesai"})
    assert stale.status_code == 409 and stale.mimetype == "application/problem+json"
    assert stale.get_json()["code"] == "STALE_VERSION" and stale.get_json()["current_version"] == 2
    bad = c.patch(url, headers=hdr(), json={"version": 2, "status": "belum_ditangani"})
    assert bad.status_code == 409 and bad.get_json()["code"] == "INVALID_TRANSITION"
    done = c.patch(url, headers=hdr(), json={"version": 2, "status": "selesai"})
    assert done.status_code == 200 and done.get_json()["done_at"]
    again = c.patch(url, headers=hdr(), json={"version": 3, "status": "dibatalkan"})
    assert again.status_code == 409 and "final" in again.get_json()["detail"]
    need_note = c.patch(url, headers=hdr(), json={"version": 3, "unit_code": "51.02"})
    assert need_note.status_code in (409, 422)
    got = c.get(url, headers=hdr("officer")).get_json()
    assert got["status"] == "selesai" and got["version"] == 3 and len(got["events"]) == 3
    assert c.get("/api/v1/incidents/999999", headers=hdr()).status_code == 404


def test_two_dispatchers_same_version_one_wins(c: Any, iapp: Any, hdr: Any) -> None:
    inc = _new(c, iapp, hdr, "51.71.04", "2032-03-02T09:00:00+08:00")
    url = f"/api/v1/incidents/{inc['id']}"
    first = c.patch(url, headers=hdr(), json={"version": 1, "status": "dalam_proses"})
    second = c.patch(url, headers=hdr(), json={"version": 1, "status": "dibatalkan"})
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    assert second.get_json()["code"] == "STALE_VERSION"


def test_reassign_over_http(c: Any, iapp: Any, hdr: Any, seeded: dict[str, Any]) -> None:
    inc = _new(c, iapp, hdr, "51.71.01", "2032-03-03T09:00:00+08:00")
    url = f"/api/v1/incidents/{inc['id']}"
    r = c.patch(url, headers=hdr(), json={"version": 1, "unit_code": "51.02"})
    assert r.status_code == 422 and r.get_json()["code"] == "NOTE_REQUIRED"
    r = c.patch(url, headers=hdr(), json={"version": 1, "unit_code": "51.00.99", "note": "x"})
    assert r.status_code == 422 and r.get_json()["code"] == "UNKNOWN_UNIT"
    r = c.patch(url, headers=hdr(), json={"version": 1, "unit_code": seeded["tabanan"], "note": "salah wilayah"})
    assert r.status_code == 200
    assert r.get_json()["unit"]["polres"]["code"] == "51.02" and r.get_json()["unit_code"] == seeded["tabanan"]


def test_roles(c: Any, hdr: Any, seeded: dict[str, Any]) -> None:
    url = f"/api/v1/incidents/{seeded['den1']['id']}"
    assert c.post("/api/v1/incidents", json={}).status_code == 401
    assert c.post("/api/v1/incidents", headers=hdr("supervisor"), json={}).status_code == 403
    assert c.patch(url, headers=hdr("officer"), json={"version": 1, "note": "x"}).status_code == 403
    assert c.get("/api/v1/reports/weekly?unit=51&week=2025-W06", headers=hdr("officer")).status_code == 403
    assert c.get("/api/v1/reports/weekly?unit=51&week=2025-W06", headers=hdr("dispatcher")).status_code == 403
    for role in ("admin", "supervisor", "officer", "dispatcher"):
        assert c.get(url, headers=hdr(role)).status_code == 200


def test_unit_scope(c: Any, hdr: Any, seeded: dict[str, Any]) -> None:
    den_sup = hdr("supervisor", "51.71")
    week = "&from=" + quote("2025-02-02T16:00:00Z") + "&to=2025-02-09T16:00:00Z"
    items = c.get("/api/v1/incidents?per_page=500" + week, headers=den_sup).get_json()["items"]
    assert {i["id"] for i in items} == {seeded["den1"]["id"], seeded["den2"]["id"]}
    assert c.get("/api/v1/incidents?unit=51.02", headers=den_sup).status_code == 403
    assert c.get("/api/v1/incidents?unit=51", headers=den_sup).get_json()["code"] == "OUT_OF_SCOPE"
    assert c.get(f"/api/v1/incidents/{seeded['tab1']['id']}", headers=den_sup).status_code == 403
    assert c.get("/api/v1/reports/weekly?unit=51.02&week=2025-W06", headers=den_sup).status_code == 403
    own = c.get("/api/v1/reports/weekly?week=2025-W06", headers=den_sup)
    assert own.status_code == 200 and own.get_json()["unit"]["code"] == "51.71" and own.get_json()["total"] == 2
    officer = hdr("officer", "51.71.01")
    items = c.get("/api/v1/incidents?per_page=500" + week, headers=officer).get_json()["items"]
    assert [i["id"] for i in items] == [seeded["den1"]["id"]]
    assert c.get(f"/api/v1/incidents/{seeded['den2']['id']}", headers=officer).status_code == 403
    everything = c.get("/api/v1/incidents?per_page=500" + week, headers=hdr("supervisor")).get_json()
    assert everything["total"] == 3
    admin_scoped = hdr("admin", "51.71")  # admin sees all whatever its unit
    assert c.get("/api/v1/incidents?unit=51.02" + week, headers=admin_scoped).get_json()["total"] == 1


def test_list_params_and_csv_match_json(c: Any, hdr: Any, seeded: dict[str, Any]) -> None:
    base = "/api/v1/incidents?from=2025-02-02T16:00:00+00:00&to=2025-02-09T16:00:00%2B00:00"
    r = c.get(base + "&per_page=2", headers=hdr())
    body = r.get_json()
    assert r.status_code == 200 and body["total"] == 3 and len(body["items"]) == 2 and body["page"] == 1
    assert c.get(base + "&per_page=2&page=2", headers=hdr()).get_json()["items"][0]["id"] == seeded["den1"]["id"]
    assert [i["id"] for i in c.get(base + "&status=dalam_proses", headers=hdr()).get_json()["items"]] == [
        seeded["den2"]["id"]]
    assert [i["id"] for i in c.get(base + "&category=kdrt&unit=51.02", headers=hdr()).get_json()["items"]] == [
        seeded["tab1"]["id"]]
    overdue = c.get(base + "&overdue=true", headers=hdr()).get_json()["items"]
    assert {i["id"] for i in overdue} == {seeded["den1"]["id"], seeded["tab1"]["id"]}
    assert all(i["overdue"] for i in overdue)
    for bad in ("&per_page=501", "&page=0", "&status=open", "&overdue=maybe", "&from=2032-02-01T00:00:00",
                "&format=xml"):
        r = c.get("/api/v1/incidents?" + bad[1:], headers=hdr())
        assert r.status_code == 400 and r.mimetype == "application/problem+json", bad
    items = c.get(base + "&per_page=500", headers=hdr()).get_json()["items"]
    r = c.get(base + "&format=csv", headers=hdr())
    assert r.status_code == 200 and r.mimetype == "text/csv" and r.headers["X-Total-Count"] == "3"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [int(x["id"]) for x in rows] == [i["id"] for i in items]
    for row, item in zip(rows, items, strict=True):
        assert (row["status"], row["category"], row["reported_at"], row["unit_code"]) == (
            item["status"], item["category"], item["reported_at"], item["unit_code"])
        assert row["unit_name"] == item["unit"]["polsek"]["name"] and int(row["version"]) == item["version"]


def test_weekly_recap_endpoint_json_and_csv(c: Any, hdr: Any, seeded: dict[str, Any]) -> None:
    r = c.get("/api/v1/reports/weekly?unit=51&week=2025-W06", headers=hdr("supervisor"))
    assert r.status_code == 200
    recap = r.get_json()
    assert {"unit", "week", "timezone", "from", "to", "counts", "by_category", "unhandled",
            "median_minutes_to_first_action", "median_minutes_to_done", "children", "total"} <= set(recap)
    assert recap["total"] == 3 and recap["counts"] == {"belum_ditangani": 2, "dalam_proses": 1, "selesai": 0,
                                                       "dibatalkan": 0}
    assert recap["from"] == "2025-02-03T00:00:00+08:00" and recap["timezone"] == "Asia/Makassar"
    assert [ch["code"] for ch in recap["children"][:2]] == ["51.71", "51.02"]
    assert {u["id"] for u in recap["unhandled"]} == {seeded["den1"]["id"], seeded["tab1"]["id"]}
    assert recap["median_minutes_to_done"] is None and recap["median_minutes_to_first_action"] is not None
    r = c.get("/api/v1/reports/weekly?unit=51&week=2025-W06&format=csv", headers=hdr("supervisor"))
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [x["unit_code"] for x in rows] == ["51"] + [ch["code"] for ch in recap["children"]]
    assert int(rows[0]["belum_ditangani"]) == 2 and int(rows[1]["total"]) == 2
    assert c.get("/api/v1/reports/weekly?unit=51&week=2032-13", headers=hdr("supervisor")).status_code == 400
    assert c.get("/api/v1/reports/weekly?unit=51.99&week=2025-W06", headers=hdr("supervisor")).status_code == 404


def test_openapi_documents_incident_routes(c: Any) -> None:
    paths = c.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/incidents"]) == {"get", "post"}
    assert set(paths["/api/v1/incidents/{incident_id}"]) == {"get", "patch"}
    assert paths["/api/v1/incidents"]["post"]["x-roles"] == ["admin", "dispatcher"]
    assert paths["/api/v1/reports/weekly"]["get"]["x-roles"] == ["admin", "supervisor"]
    assert "requestBody" in paths["/api/v1/incidents/{incident_id}"]["patch"]
