"""Calls 110 over HTTP: JSON and CSV intake, the report (JSON = CSV = XLSX), roles and unit scope, officer
milestone taps through the signed link (idempotent retries). Data lives in May 2034 of the shared app."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from tests.conftest import make_token

HEADER = "call_id,started_at,answered_at,ended_at,answered_by,routed_to,caller_unit,outcome,incident_id\n"
ROWS = (
    "a-1,2034-05-02T09:00:00+08:00,2034-05-02T09:00:07+08:00,2034-05-02T09:03:00+08:00,51.71,51.71,,emergency,\n"
    "a-2,2034-05-02T10:00:00+08:00,,2034-05-02T10:00:40+08:00,,51.71;51,,abandoned,\n"
    "a-3,2034-05-03T10:00:00+08:00,2034-05-03T10:00:30+08:00,2034-05-03T10:02:00+08:00,51,51.02;51,,silent,\n"
    "a-4,2034-05-03T11:00:00+08:00,,2034-05-03T11:00:10+08:00,,51.02,,nonsense,\n"
)


def _import(client: Any, auth: Any, text: str) -> Any:
    return client.post("/api/v1/calls/import", data=text.encode(), headers={**auth("supervisor"),
                                                                           "Content-Type": "text/csv"})


def test_csv_import_then_report_json_csv_xlsx(client: Any, auth: Any) -> None:
    resp = _import(client, auth, HEADER + ROWS)
    assert resp.status_code in (200, 201), resp.get_json()
    body = resp.get_json()
    assert body["rows"] == 4 and body["created"] + body["updated"] == 3 and body["rejected"] == 1
    assert body["errors"] == [{"row": 5, "column": "outcome", "detail": body["errors"][0]["detail"]}]
    again = _import(client, auth, HEADER + ROWS).get_json()
    assert (again["created"], again["updated"]) == (0, 3)

    r = client.get("/api/v1/reports/calls?unit=51&from=2034-05-01&to=2034-05-31", headers=auth("supervisor"))
    assert r.status_code == 200, r.get_json()
    rep = r.get_json()
    assert rep["unit"] == {"code": "51", "name": "Polda Bali", "level": "polda"}
    c = rep["calls"]
    assert (c["offered"], c["answered"], c["not_answered"], c["answer_rate"]) == (3, 2, 1, 0.6667)
    kids = {k["unit"]["code"]: k for k in rep["children"]}
    assert (kids["51.71"]["calls"]["answered"], kids["51.71"]["calls"]["not_answered"]) == (1, 1)
    assert (kids["51.02"]["calls"]["answered"], kids["51.02"]["calls"]["answered_above"]) == (0, 1)
    assert rep["below_half_answered"] == ["51.02"]

    text = client.get("/api/v1/reports/calls?unit=51&from=2034-05-01&to=2034-05-31&format=csv",
                      headers=auth("supervisor")).get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["row"] == "unit" and rows[0]["offered"] == "3" and rows[0]["answer_rate"] == "0.6667"
    assert [r["unit_code"] for r in rows[1:]] == [k["unit"]["code"] for k in rep["children"]]

    from openpyxl import load_workbook

    x = client.get("/api/v1/reports/calls?unit=51&from=2034-05-01&to=2034-05-31&format=xlsx",
                   headers=auth("supervisor"))
    assert x.status_code == 200 and x.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(x.data)).active
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert table[1][5:9] == [3, 2, 1, 0.6667]
    assert [r[1] for r in table[2:]] == [r["unit_code"] for r in rows[1:]]


def test_json_calls_single_and_all_bad(client: Any, auth: Any) -> None:
    one = {"call_id": "j-api-1", "started_at": "2034-05-10T08:00:00+08:00", "answered_at": "2034-05-10T08:00:04+08:00",
           "ended_at": "2034-05-10T08:02:00+08:00", "answered_by": "51.71", "routed_to": ["51.71"],
           "outcome": "information"}
    resp = client.post("/api/v1/calls", json=one, headers=auth("dispatcher"))
    assert resp.status_code == 201 and resp.get_json()["created"] == 1
    assert client.post("/api/v1/calls", json=one, headers=auth("dispatcher")).status_code == 200
    bad = client.post("/api/v1/calls", json={**one, "call_id": "j-api-2", "routed_to": []},
                      headers=auth("dispatcher"))
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert bad.get_json()["errors"][0]["pointer"] == "/routed_to"
    assert client.post("/api/v1/calls", json=one, headers=auth("officer")).status_code == 403


def test_report_roles_and_unit_scope(app: Any, client: Any, auth: Any) -> None:
    assert client.get("/api/v1/reports/calls?unit=51&month=2034-05", headers=auth("dispatcher")).status_code == 403
    polres = {"Authorization": "Bearer " + make_token(app, "supervisor", unit="51.71", name="sup-51.71")}
    own = client.get("/api/v1/reports/calls?month=2034-05", headers=polres)
    assert own.status_code == 200 and own.get_json()["unit"]["code"] == "51.71"
    for other in ("51", "MABES", "51.02"):
        r = client.get(f"/api/v1/reports/calls?unit={other}&month=2034-05", headers=polres)
        assert r.status_code == 403 and r.get_json()["code"] == "OUT_OF_SCOPE"
    national = client.get("/api/v1/reports/calls?month=2034-05", headers=auth("admin")).get_json()
    # Every Polda of the structure in force and Mabes' own line, whether or not the published set (Bali) has its
    # polygons; only Bali has calls this month: it leads, the others follow by code (ties), Mabes' line last.
    from datetime import date

    from geo_service.services.calls import structure_in_force

    others = sorted(r.code for r in structure_in_force(date.today()) if r.level == "polda" and r.code != "51")
    assert national["unit"]["code"] == "MABES" and len(others) >= 33
    assert [k["unit"]["code"] for k in national["children"]] == ["51", *others, "MABES"]
    bad = client.get("/api/v1/reports/calls?unit=51&week=2034-W99", headers=auth("supervisor"))
    assert bad.status_code == 400 and bad.get_json()["code"] == "INVALID_PERIOD"


def _incident_and_link(client: Any, auth: Any) -> tuple[int, str]:
    inc = client.post("/api/v1/incidents", json={"location": {"lat": -8.65, "lon": 115.216},
                                                  "category": "kecelakaan", "channel": "call_110",
                                                  "reported_at": "2026-11-30T10:00:00+08:00"},
                      headers=auth("dispatcher")).get_json()
    link = client.post("/api/v1/officer-links", json={"incident_id": inc["id"]}, headers=auth("dispatcher"))
    assert link.status_code == 201, link.get_json()
    return inc["id"], link.get_json()["url"]


def test_officer_taps_are_idempotent_and_show_in_the_timeline(client: Any, auth: Any) -> None:
    incident_id, url = _incident_and_link(client, auth)
    path = url[url.index("/p/"):]
    call = {"call_id": f"inc-call-{incident_id}", "started_at": "2026-11-30T09:59:50+08:00",
            "answered_at": "2026-11-30T10:00:07+08:00", "ended_at": "2026-11-30T10:02:00+08:00",
            "answered_by": "51.71", "routed_to": "51.71", "outcome": "emergency", "incident_id": incident_id}
    assert client.post("/api/v1/calls", json=call, headers=auth("dispatcher")).status_code == 201
    tap = {"kind": "acknowledged", "key": "tap-0001-acknowledged", "lat": -8.65, "lon": 115.216, "accuracy_m": 12}
    first = client.post(f"{path}/milestones", json=tap)
    assert first.status_code == 201 and first.get_json()["created"] is True
    retry = client.post(f"{path}/milestones", json=tap)
    assert retry.status_code == 200 and retry.get_json()["id"] == first.get_json()["id"]
    far = client.post(f"{path}/milestones", json={"kind": "on_scene", "key": "tap-0002-on-scene",
                                                  "lat": -8.66, "lon": 115.216})
    assert far.status_code == 201 and far.get_json()["far"] is True
    assert client.post(f"{path}/milestones", json={"kind": "dispatched"}).status_code == 400
    assert client.post(path[:-3] + "xyz/milestones", json=tap).status_code == 403
    line = client.get(f"/api/v1/incidents/{incident_id}/milestones", headers=auth("supervisor")).get_json()
    kinds = [m["kind"] for m in line["milestones"]]
    assert kinds == ["received", "answered", "dispatched", "acknowledged", "on_scene"]
    assert line["milestones"][1]["s_since_call"] == 7
    inc = client.get(f"/api/v1/incidents/{incident_id}", headers=auth("supervisor")).get_json()
    assert inc["status"] == "dalam_proses"


def test_a_link_for_a_bare_point_records_nothing(client: Any, auth: Any) -> None:
    link = client.post("/api/v1/officer-links", json={"lat": -8.65, "lon": 115.216},
                       headers=auth("dispatcher"))
    assert link.status_code == 201, link.get_json()
    url = link.get_json()["url"]
    r = client.post(url[url.index("/p/"):] + "/milestones", json={"kind": "acknowledged"})
    assert r.status_code == 422 and r.get_json()["code"] == "LINK_WITHOUT_INCIDENT"


def test_a_dispatcher_assigning_a_unit_records_dispatched_once(client: Any, auth: Any) -> None:
    """"dispatched" = an officer link sent or a unit assigned: a PATCH of the incident's unit records it; a second
    reassignment and a later officer link keep the first time (one milestone, no double counting)."""
    inc = client.post("/api/v1/incidents", json={"location": {"lat": -8.65, "lon": 115.216}, "category": "kecelakaan",
                                                  "channel": "call_110", "reported_at": "2026-11-30T10:00:00+08:00"},
                      headers=auth("dispatcher")).get_json()
    path = f"/api/v1/incidents/{inc['id']}"

    def dispatched() -> list[dict[str, Any]]:
        line = client.get(f"{path}/milestones", headers=auth("supervisor")).get_json()["milestones"]
        return [m for m in line if m["kind"] == "dispatched"]

    assert dispatched() == []
    note = client.patch(path, json={"version": inc["version"], "note": "no unit change"}, headers=auth("dispatcher"))
    assert note.status_code == 200 and dispatched() == []
    first = client.patch(path, json={"version": note.get_json()["version"], "unit_code": "51.71.02",
                                     "note": "nearest patrol"}, headers=auth("dispatcher"))
    assert first.status_code == 200, first.get_json()
    [stamp] = dispatched()
    again = client.patch(path, json={"version": first.get_json()["version"], "unit_code": "51.71.01",
                                     "note": "handed over"}, headers=auth("dispatcher"))
    assert again.status_code == 200, again.get_json()
    assert client.post("/api/v1/officer-links", json={"incident_id": inc["id"]},
                       headers=auth("dispatcher")).status_code == 201
    assert dispatched() == [stamp]


def test_the_national_dashboard_lists_every_polda_of_the_demo_month(tmp_path: Any) -> None:
    """``demo seed --calls`` fills the national page: a row for every Polda of the structure in force (with calls)
    and Mabes' own line, and a non-empty "under 50 %" list; the maps draw the Polda that have polygons."""
    from datetime import UTC, datetime

    from geo_service.services import accounts
    from geo_service.services import calls as svc
    from tests.conftest import dispose_app, make_app
    from tests.web.test_pages import PASSWORD, login

    application = make_app("sqlite", tmp_path, secure_cookies=False)
    try:
        ext = application.extensions["geo_service"]
        when = datetime(2035, 12, 31, 12, 0, tzinfo=UTC)
        with ext.storage.transaction() as s:
            accounts.create_user(s, username="adm", password=PASSWORD, role="admin", unit_code=None, actor="test")
            svc.seed_demo_calls(s, svc.hierarchy_for(ext.holder.current(), now=when), days=20, now=when)
        page = login(application, "adm").get("/reports/calls?month=2035-12").get_data(as_text=True)
        rows = dict(re.findall(r'<tr data-code="([^"]+)"[^>]*>\s*<td>\d+</td>\s*<td>.*?</td>\s*<td>(\d+)</td>', page,
                               re.S))
        poldas = [r.code for r in svc.structure_in_force(when.date()) if r.level == "polda"]
        assert all(int(rows[code]) > 0 for code in poldas) and int(rows["MABES"]) > 0, rows
        below = re.search(r'<ul id="below-half">(.*?)</ul>', page, re.S)
        assert below and "<li>—</li>" not in below.group(1)
        assert 'id="calls-map"' in page and 'id="response-map"' in page
    finally:
        dispose_app(application)


def test_dashboard_shows_its_period_as_days_people_read(client: Any, auth: Any) -> None:
    """Issue 17: the Anev 110 page writes its period and the weeks of its trend as local days in the page's
    language; the ISO dates stay in its export links (and the API)."""
    assert _import(client, auth, HEADER + ROWS).status_code in (200, 201)
    for lang, period, week in (("id", "2 Mei 2034 – 20 Mei 2034", "2 Mei 2034 – 7 Mei 2034"),
                               ("en", "2 May 2034 – 20 May 2034", "2 May 2034 – 7 May 2034")):
        page = client.get(f"/reports/calls?unit=51&from=2034-05-02&to=2034-05-20&lang={lang}",
                          headers=auth("supervisor"))
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        text = re.sub(r"<[^>]*>", " ", html)
        assert f"<title>Anev 110 Polda Bali {period}" in html
        assert re.search(rf'id="report-period">{period} \(WITA', html)
        assert re.search(rf'<tr data-week="2034-W18"><td>{week}</td>', html)
        assert not re.findall(r"\d{4}-\d{2}-\d{2}|\d{4}-W\d{2}", text)
        assert "from=2034-05-02&amp;to=2034-05-20&amp;format=csv" in html
