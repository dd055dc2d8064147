"""An attacker's view of the newest endpoints (issues 15, 16, 17); each exploit is the test.

Who attacks: a logged-in dispatcher or supervisor of one unit, a caller holding a location-request
link, an officer holding an officer link, an outsider, and the far end of a short map link. Every
test below failed on the code it was written against and passes after the fix named in its
docstring; attacks the code already withstood are kept as regression tests where they were cheap.
Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import csv
import io
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from geo_service import errors
from geo_service.services import recap as recap_service
from geo_service.services.short_links import ShortLinkExpander
from geo_service.storage.types import utcnow
from tests.conftest import dispose_app, make_app, make_token

HEADER = "call_id,started_at,answered_at,ended_at,answered_by,routed_to,caller_unit,outcome,incident_id\n"
DENPASAR = {"lat": -8.6705, "lon": 115.2126}  # Polresta Denpasar (51.71)
_names = itertools.count()


@pytest.fixture(scope="module")
def lapp(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    application = make_app(backend, tmp_path_factory.mktemp(f"attack-newer-{backend}"))
    yield application
    dispose_app(application)


def _bearer(app: Any, role: str, unit: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(app, role, unit=unit, name=f'attack-{role}-{next(_names)}')}"}


def _call_row(call_id: str, route: str, *, answered_by: str | None = None, day: str = "2033-03-02") -> str:
    answered = f"{day}T09:00:07+08:00" if answered_by else ""
    return (f"{call_id},{day}T09:00:00+08:00,{answered},{day}T09:03:00+08:00,{answered_by or ''},{route},,"
            f"{'emergency' if answered_by else 'abandoned'},\n")


def _import(app: Any, headers: dict[str, str], text: str) -> Any:
    return app.test_client().post("/api/v1/calls/import", data=text.encode(),
                                  headers={**headers, "Content-Type": "text/csv"})


def _offered(app: Any, unit: str) -> int:
    r = app.test_client().get(f"/api/v1/reports/calls?unit={unit}&month=2033-03", headers=_bearer(app, "admin"))
    assert r.status_code == 200, r.get_json()
    return int(r.get_json()["calls"]["offered"])


# ------------------------------------------------------------------ 110 call records: unit scope


def test_a_polres_supervisor_cannot_put_calls_into_another_units_figures(lapp: Any) -> None:
    """Polres Jembrana (51.01) importing calls that rang Polresta Denpasar (51.71) first would change
    Denpasar's answer rate. Fixed: a scoped importer's rows must have rung its own unit (or one below)
    first; other rows are reported per row and not stored."""
    jembrana = _bearer(lapp, "supervisor", unit="51.01")
    before = _offered(lapp, "51.71")
    r = _import(lapp, jembrana, HEADER + _call_row("scope-foreign-1", "51.71") + _call_row("scope-foreign-2", "51.71"))
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["code"] == "CALLS_REJECTED"
    assert {e["pointer"].rsplit("/", 1)[-1] for e in r.get_json()["errors"]} == {"routed_to"}
    live = lapp.test_client().post("/api/v1/calls", headers=_bearer(lapp, "dispatcher", unit="51.01"), json={
        "call_id": "scope-foreign-3", "started_at": "2033-03-02T10:00:00+08:00", "ended_at": "2033-03-02T10:01:00+08:00",
        "routed_to": ["51.71"], "outcome": "abandoned"})
    assert live.status_code == 422 and live.get_json()["errors"][0]["pointer"] == "/routed_to"
    assert _offered(lapp, "51.71") == before

    own = _import(lapp, jembrana, HEADER + _call_row("scope-own-1", "51.01;51;MABES", answered_by="51"))
    assert own.status_code == 201 and own.get_json()["created"] == 1  # overflow above its own line is fine


def test_a_colliding_call_id_cannot_overwrite_another_units_call(lapp: Any) -> None:
    """call_id is the global key and a re-import updates: a Polres could rewrite any other unit's call
    (answered -> abandoned) by reusing its id. Fixed: a scoped importer may update only calls that rang
    its unit first."""
    admin = _bearer(lapp, "admin")
    assert _import(lapp, admin, HEADER + _call_row("collide-1", "51.71", answered_by="51.71")).status_code == 201
    r = _import(lapp, _bearer(lapp, "supervisor", unit="51.01"), HEADER + _call_row("collide-1", "51.01"))
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["errors"][0]["pointer"].endswith("/call_id")
    report = lapp.test_client().get("/api/v1/reports/calls?unit=51.71&month=2033-03", headers=admin).get_json()
    assert report["calls"]["answered"] >= 1


def test_a_polres_cannot_link_its_calls_to_another_units_incident(lapp: Any) -> None:
    """A call linked to an incident becomes that incident's "answered" milestone: Polres Jembrana could
    link one of its own calls to a Denpasar incident and rewrite its timeline. Fixed: a scoped importer
    may link calls only to incidents within its unit."""
    c = lapp.test_client()
    inc = c.post("/api/v1/incidents", headers=_bearer(lapp, "dispatcher"), json={
        "location": DENPASAR, "category": "kecelakaan", "channel": "call_110",
        "reported_at": "2033-03-02T09:10:00+08:00"}).get_json()
    row = _call_row("link-foreign-1", "51.01", answered_by="51.01").rstrip("\n") + f"{inc['id']}\n"
    r = _import(lapp, _bearer(lapp, "supervisor", unit="51.01"), HEADER + row)
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["errors"][0]["pointer"].endswith("/incident_id")
    line = c.get(f"/api/v1/incidents/{inc['id']}/milestones", headers=_bearer(lapp, "admin")).get_json()
    assert "answered" not in [m["kind"] for m in line["milestones"]]


# ------------------------------------------------------------------ location-request links


def test_a_caller_answer_outside_every_unit_does_not_unassign_the_incident(lapp: Any) -> None:
    """Whoever holds a caller link could post a position far outside the published units (lat 60,
    lon 10): the incident lost its unit and vanished from Polresta Denpasar's queue. Fixed: such an
    answer becomes a note; the incident keeps its point and unit."""
    disp = _bearer(lapp, "dispatcher")
    c = lapp.test_client()
    inc = c.post("/api/v1/incidents", headers=disp, json={
        "location": DENPASAR, "category": "kecelakaan", "description": "uji", "reported_at": utcnow().isoformat(),
        "channel": "call_110"}).get_json()
    lr = c.post("/api/v1/location-requests", headers=disp, json={"incident_id": inc["id"]}).get_json()
    r = c.post(lr["url"], json={"lat": 60.0, "lon": 10.0, "accuracy_m": 5, "source": "gps"})
    assert r.status_code == 200  # the answer itself is recorded for the dispatcher to read
    after = c.get(f"/api/v1/incidents/{inc['id']}", headers=disp).get_json()
    assert after["unit_code"] == inc["unit_code"] == "51.71.03"
    assert after["point"] == DENPASAR
    assert any("outside every unit" in (e.get("note") or "") for e in after["events"])


def test_made_up_caller_tokens_do_not_fill_the_rate_limiter(lapp: Any) -> None:
    """The answer limit was keyed by the first 12 characters of whatever token was posted, before the
    token was checked: every made-up token opened a bucket kept for 10 minutes (worker memory, or Redis
    keys), for free. Fixed: the signature is checked first (no database read), so only genuine links
    are counted; made-up ones are still a plain 404."""
    import secrets

    limiter = lapp.extensions["geo_service"].rate_limiter
    keys: list[str] = []
    original = limiter.hit

    def recording_hit(key: str, limit: int, window_s: int) -> tuple[bool, int]:
        keys.append(key)
        return original(key, limit, window_s)

    limiter.hit = recording_hit
    try:
        c = lapp.test_client()
        for _ in range(25):
            r = c.post(f"/l/{secrets.token_urlsafe(21)[:28]}", json={"source": "denied"})
            assert r.status_code == 404 and r.get_json()["code"] == "LOCATION_REQUEST_INVALID"
    finally:
        del limiter.hit
    assert not [k for k in keys if k.startswith("locreq:answer:")]


# ------------------------------------------------------------------ officer milestone taps


def test_an_officer_cannot_backdate_arrival_to_before_the_dispatch(lapp: Any) -> None:
    """The phone's time of a tap was trusted back to the call itself, so an officer sent out 20 minutes
    after a call could tap "Tiba di lokasi" with ``at`` = call + 1 min and the report counted a 1-minute
    response. Fixed: an officer's tap cannot precede the dispatch (the link it came through); such a
    time is replaced by the server's."""
    from datetime import datetime, timedelta

    c = lapp.test_client()
    disp = _bearer(lapp, "dispatcher")
    reported = utcnow() - timedelta(minutes=20)
    inc = c.post("/api/v1/incidents", headers=disp, json={
        "location": DENPASAR, "category": "kecelakaan", "channel": "call_110",
        "reported_at": reported.isoformat()}).get_json()
    link = c.post("/api/v1/officer-links", json={"incident_id": inc["id"]}, headers=disp).get_json()["url"]
    path = link[link.index("/p/"):]
    forged = (reported + timedelta(minutes=1)).isoformat()
    tap = c.post(f"{path}/milestones", json={"kind": "on_scene", "key": "attack-backdated-arrival", "at": forged,
                                             **DENPASAR})
    assert tap.status_code == 201, tap.get_json()
    line = c.get(f"/api/v1/incidents/{inc['id']}/milestones", headers=disp).get_json()["milestones"]
    at = {m["kind"]: datetime.fromisoformat(m["at"].replace("Z", "+00:00")) for m in line}
    assert at["on_scene"] >= at["dispatched"]
    assert at["on_scene"] - at["received"] >= timedelta(minutes=19)


# ------------------------------------------------------------------ report exports: formula injection


def test_weekly_recap_csv_does_not_turn_unit_names_into_formulas(lapp: Any) -> None:
    """Unit names come from uploaded boundary files; the weekly recap CSV wrote them raw, so a unit named
    ``=HYPERLINK(...)`` became a live formula in the supervisor's spreadsheet. Fixed: the recap CSV
    escapes text cells like the call and incident exports."""
    r = lapp.test_client().get("/api/v1/reports/weekly?unit=51", headers=_bearer(lapp, "admin"))
    assert r.status_code == 200, r.get_json()
    recap = r.get_json()
    evil = ['=HYPERLINK("http://127.0.0.1:9/x?"&A1,"klik")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)"]
    recap["unit"]["name"] = evil[0]
    for child, name in zip(recap["children"], itertools.cycle(evil[1:]), strict=False):
        child["name"] = name
    rows = list(csv.reader(io.StringIO(recap_service.recap_csv(recap))))
    for row in rows[1:]:
        assert all(not cell or cell[0] not in "=+-@\t\r" for cell in row), row


def test_call_report_exports_survive_hostile_unit_names(lapp: Any) -> None:
    """A control character in a unit name (uploaded boundary files keep everything but NUL) made openpyxl
    refuse the cell: every xlsx export over that unit ended in a 500. Fixed: such characters are dropped
    in the workbook; formulas stay escaped in both exports."""
    from openpyxl import load_workbook

    from geo_service.services import calls as calls_service

    r = lapp.test_client().get("/api/v1/reports/calls?unit=51&month=2033-03", headers=_bearer(lapp, "admin"))
    assert r.status_code == 200, r.get_json()
    report = r.get_json()
    report["unit"]["name"] = "Polda\x07 Bali\x1b"
    report["children"][0]["unit"]["name"] = '=HYPERLINK("http://127.0.0.1:9/","x")'
    sheet = load_workbook(io.BytesIO(calls_service.report_xlsx(report))).active
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert table[1][2] == "Polda Bali"
    assert all(not isinstance(v, str) or v[:1] not in "=+-@" for row in table[1:] for v in row)
    rows = list(csv.reader(io.StringIO(calls_service.report_csv(report))))
    assert all(not cell or cell[0] not in "=+-@\t\r" for row in rows[1:] for cell in row)


# ------------------------------------------------------------------ short-link expansion


def _drip_server(stop: threading.Event) -> int:
    """A 'short-link service' on 127.0.0.1 that starts a redirect and then sends one header byte every
    0.2 s, forever (each read finishes well within the per-request timeout)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.2)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            conn.recv(4096)
            try:
                conn.sendall(b"HTTP/1.1 302 Found\r\nX-Slow: ")
                while not stop.is_set():
                    conn.sendall(b"a")
                    time.sleep(0.2)
            except OSError:
                pass
            finally:
                conn.close()
        srv.close()

    threading.Thread(target=serve, daemon=True).start()
    return int(srv.getsockname()[1])


def test_a_dripping_short_link_service_cannot_hold_a_worker() -> None:
    """The 3 s timeout was per socket read, so an answer that trickles one byte at a time held the
    request (and its worker) for as long as the far end liked. Fixed: one deadline for the whole
    expansion, every hop and both methods included."""
    stop = threading.Event()
    port = _drip_server(stop)
    expander = ShortLinkExpander(timeout_s=1.0, route=lambda host: ("127.0.0.1", port, False))
    outcome: list[BaseException | str] = []

    def expand() -> None:
        try:
            outcome.append(expander("https://maps.app.goo.gl/slow"))
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    start = time.monotonic()
    worker = threading.Thread(target=expand, daemon=True)
    worker.start()
    worker.join(timeout=5.0)
    stop.set()  # also ends a worker still held by the drip
    assert not worker.is_alive() and time.monotonic() - start < 2.5, "the drip held the expansion"
    assert isinstance(outcome[0], errors.CoordinateInvalid)
    assert outcome[0].extra["hint"] == "SHORT_LINK_UNRESOLVED"


@pytest.mark.parametrize("url", [
    "https://maps.app.goo.gl.evil.example/x", "https://maps.app.goo.gl@127.0.0.1/x",
    "https://127.0.0.1#@maps.app.goo.gl/x", "https://maps.app.goo.gl./x", "https://maps.app.goo\u3002gl/x",
    "https://xn--maps-app-goo-gl.example/x", "file://maps.app.goo.gl.evil/etc/passwd",
])
def test_the_short_link_allow_list_is_not_bypassed(url: str) -> None:
    """Look-alike hosts, userinfo, fragments, a trailing dot and IDN dots never reach the network (they
    are refused or, for a genuine short-link host, sent only to that host)."""
    contacted: list[str] = []

    def route(host: str) -> tuple[str, int, bool]:
        contacted.append(host)
        return "127.0.0.1", 9, False  # nothing listens: a contacted host fails fast

    with pytest.raises(errors.CoordinateInvalid):
        ShortLinkExpander(timeout_s=0.5, route=route)(url)
    assert set(contacted) <= {"maps.app.goo.gl"}


# ------------------------------------------------------------------ 110 call records: CSV quirks


@pytest.mark.parametrize("name,text", [
    ("ragged first row", HEADER + _call_row("ragged-1", "51.71").rstrip("\n") + ",x,y,z\n"),
    ("ragged later row", HEADER + _call_row("ragged-2", "51.71") + _call_row("ragged-3", "51.71").rstrip("\n")
     + ",x\n"),
])
def test_a_row_longer_than_the_header_is_a_clear_refusal(lapp: Any, name: str, text: str) -> None:
    """A first data row with more cells than the header made pandas read its surplus cells as a row index,
    and the import ended in a 500. Fixed: 422 CSV_UNREADABLE, nothing stored."""
    r = _import(lapp, _bearer(lapp, "supervisor"), text)
    assert r.status_code == 422, (name, r.get_json())
    assert r.get_json()["code"] == "CSV_UNREADABLE"


def test_csv_quirks_are_read_or_refused_never_a_500(lapp: Any) -> None:
    """NULs, a BOM with CRLF, a quoted newline, 10,000 columns, a 2 MB cell, Latin-1 and an empty body."""
    sup = _bearer(lapp, "supervisor")
    row = _call_row("quirk-{}", "51.71")
    cases = {
        "nul": (HEADER + row.format(1).replace("abandoned", "aban\x00doned")).encode(),
        "bom crlf": ("\ufeff" + HEADER + row.format(2)).replace("\n", "\r\n").encode(),
        "quoted newline": (HEADER + '"quirk-\n3"' + row.format(3)[len("quirk-3"):]).encode(),
        "10k columns": (HEADER.rstrip("\n") + "".join(f",c{i}" for i in range(10_000)) + "\n"
                        + row.format(4).rstrip("\n") + "," * 10_000 + "\n").encode(),
        "2 MB cell": (HEADER + row.format("A" * 2_000_000)).encode(),
        "latin-1": (HEADER + row.format("\u00e9")).encode("latin-1"),
        "empty": b"",
    }
    for name, data in cases.items():
        r = lapp.test_client().post("/api/v1/calls/import", data=data, headers={**sup, "Content-Type": "text/csv"})
        assert r.status_code in (200, 201, 413, 422), (name, r.status_code)
        assert r.mimetype in ("application/json", "application/problem+json"), name
    assert _import(lapp, sup, HEADER + row.format(5)).status_code == 201


# ------------------------------------------------------------------ through a real server: the link holders


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.live import start_server

    srv = start_server(tmp_path_factory.mktemp("attack-newer-live"), workers=1, roles=("dispatcher",))
    yield srv
    srv.stop()


def test_link_holders_against_a_real_server(live: Any) -> None:
    """A caller's link and an officer's link, held by someone hostile, against ``geo-service serve``: the
    caller page leaks nothing of the call (dispatcher, description, phone, units) and sets no cookie; a
    changed token is 404 before the database; a second, different answer is 409 and the page then 410;
    plain-text posts (what a cross-site form can send without a preflight) are refused on both links."""
    st, inc = live.json("POST", "/api/v1/incidents", {
        "location": DENPASAR, "category": "kecelakaan", "description": "rahasia: korban bernama Budi",
        "reported_at": utcnow().isoformat(), "channel": "call_110"}, role="dispatcher")
    assert st == 201, inc
    st, lr = live.json("POST", "/api/v1/location-requests", {"incident_id": inc["id"], "phone": "+62 812 3456 7890"},
                       role="dispatcher")
    assert st == 201, lr
    status, headers, body = live.request("GET", lr["url"], role=None)
    page = body.decode()
    assert status == 200 and "Set-Cookie" not in headers
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    for secret in ("live-dispatcher", "Budi", "rahasia", "Polresta", "Denpasar", "3456 7890", "81234567890"):
        assert secret not in page, secret

    token = lr["url"].rsplit("/", 1)[1]
    forged = lr["url"][:-1] + ("A" if token[-1] != "A" else "B")
    assert live.request("GET", forged, role=None)[0] == 404
    answer = {"source": "gps", "lat": -8.6706, "lon": 115.2127, "accuracy_m": 15}
    assert live.json("POST", forged, answer, role=None)[0] == 404
    plain = live.request("POST", lr["url"], body=b'{"source": "denied"}', role=None,
                         headers={"Content-Type": "text/plain", "Origin": "http://evil.example"})
    assert plain[0] == 415
    st, reply = live.json("POST", lr["url"], answer, role=None)
    assert st == 200 and reply == {"status": "received", "accuracy_m": 15}
    assert live.json("POST", lr["url"], answer, role=None) == (200, reply)  # a phone retrying
    st, problem = live.json("POST", lr["url"], {**answer, "lat": -8.1}, role=None)
    assert st == 409 and problem["code"] == "LOCATION_REQUEST_USED"
    assert live.request("GET", lr["url"], role=None)[0] == 410

    st, link = live.json("POST", "/api/v1/officer-links", {"incident_id": inc["id"]}, role="dispatcher")
    assert st == 201, link
    path = link["url"][link["url"].index("/p/"):]
    tap = live.request("POST", f"{path}/milestones", body=b'{"kind": "done"}', role=None,
                       headers={"Content-Type": "text/plain", "Origin": "http://evil.example"})
    assert tap[0] == 415
    other = live.json("POST", f"{path[:-4]}xxxx/milestones", {"kind": "done"}, role=None)
    assert other[0] == 403
    st, after = live.json("GET", f"/api/v1/incidents/{inc['id']}", role="dispatcher")
    assert after["status"] == "belum_ditangani"
