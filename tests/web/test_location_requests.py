"""Location requests (issue 15) over the real HTTP stack of the app, on both backends: create, roles,
the caller page and its headers, single use and idempotent retries, denied, expiry, tampered tokens,
rate limits, long polling and the audit rows."""

from __future__ import annotations

import html
import itertools
import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

import pytest
from sqlalchemy import select, update

from geo_service.maps import external_urls
from geo_service.services import location_requests as svc
from geo_service.storage.models import AuditLog, LocationRequest
from geo_service.storage.types import utcnow
from tests.conftest import dispose_app, make_app, make_token

HTML = {"Accept": "text/html"}
# Polsek Negara (Polres Jembrana), full GPS precision so the validator does not widen the circle.
NEGARA = {"lat": -8.3582361, "lon": 114.6197917}


@pytest.fixture(scope="module")
def lapp(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    application = make_app(backend, tmp_path_factory.mktemp(f"locreq-{backend}"))
    yield application
    dispose_app(application)


_names = itertools.count()


@pytest.fixture()
def disp(lapp: Any) -> dict[str, str]:
    """A dispatcher of its own per test (the create limit counts per user)."""
    return {"Authorization": f"Bearer {make_token(lapp, 'dispatcher', name=f'locreq-disp-{next(_names)}')}"}


def _create(app: Any, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    r = app.test_client().post("/api/v1/location-requests", headers=headers, json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _state(app: Any, headers: dict[str, str], rid: str, query: str = "") -> dict[str, Any]:
    r = app.test_client().get(f"/api/v1/location-requests/{rid}{query}", headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _audit(app: Any, action: str, target_id: str) -> list[AuditLog]:
    with app.extensions["geo_service"].storage.session() as s:
        return list(s.execute(select(AuditLog).where(AuditLog.action == action, AuditLog.target_id == target_id)
                              ).scalars())


def _gps(**extra: Any) -> dict[str, Any]:
    return {**NEGARA, "accuracy_m": 12.0, "timestamp": int(time.time() * 1000), "source": "gps", **extra}


def test_create_gives_a_short_signed_link_sms_text_and_qr(lapp: Any, disp: dict[str, str]) -> None:
    lr = _create(lapp, disp, phone="+62 812-3456-7890")
    assert set(lr) >= {"id", "url", "short_code", "expires_at", "sms_text", "qr_svg"}
    token = lr["url"].removeprefix("/l/")
    assert lr["url"].startswith("/l/") and len(token) == svc.TOKEN_CHARS == 28
    assert lr["id"] not in token  # the id read by consoles opens nothing
    expires = lr["expires_at"]
    assert 29 * 60 <= (type(utcnow()).fromisoformat(expires) - utcnow()).total_seconds() <= 30 * 60
    # The SMS text is Bahasa Indonesia, carries the full link and the code, and fits two SMS parts.
    assert "buka http://localhost" + lr["url"] in lr["sms_text"] and lr["short_code"] in lr["sms_text"]
    assert "Berlaku 30 menit" in lr["sms_text"] and len(lr["sms_text"]) <= 306
    assert lr["qr_svg"].startswith("data:image/svg+xml") and "<svg" in unquote(lr["qr_svg"])
    assert "http" not in unquote(lr["qr_svg"]).split("<svg", 1)[1].split(">", 1)[1]  # no external reference
    (created,) = _audit(lapp, "location_request.create", lr["id"])
    assert created.actor.startswith("token:locreq-disp-") and created.request_id
    assert created.detail["phone"] == "*" * 11 + "890"  # the number is masked in the audit

    english = _create(lapp, disp, lang="en")
    assert "open http://localhost" in english["sms_text"] and "Valid for 30 minutes" in english["sms_text"]


def test_roles_and_malformed_bodies(lapp: Any, disp: dict[str, str]) -> None:
    c = lapp.test_client()
    sup = {"Authorization": f"Bearer {make_token(lapp, 'supervisor', name='locreq-sup')}"}
    officer = {"Authorization": f"Bearer {make_token(lapp, 'officer', name='locreq-officer')}"}
    assert c.post("/api/v1/location-requests", headers=sup, json={}).status_code == 201
    r = c.post("/api/v1/location-requests", headers=officer, json={})
    assert r.status_code == 403 and r.get_json()["code"] == "ROLE_FORBIDDEN"
    assert c.post("/api/v1/location-requests", json={}).status_code == 401
    lr = _create(lapp, disp)
    assert c.get(f"/api/v1/location-requests/{lr['id']}", headers=officer).status_code == 403
    assert c.get(f"/api/v1/location-requests/{lr['id']}").status_code == 401
    # The caller's token is no key to the API.
    token = lr["url"].removeprefix("/l/")
    assert c.get(f"/api/v1/location-requests/{lr['id']}", headers={"Authorization": f"Bearer {token}"}
                 ).status_code == 401
    assert c.get(f"/api/v1/location-requests/{token}", headers=disp).status_code == 404

    r = c.post("/api/v1/location-requests", headers=disp, json={"phone": "call me", "lang": "fr", "incident_id": "7"})
    assert r.status_code == 400
    assert {e["pointer"] for e in r.get_json()["errors"]} == {"/phone", "/lang", "/incident_id"}
    r = c.post("/api/v1/location-requests", headers=disp, json={"incident_id": 987654})
    assert r.status_code == 404
    r = c.get(f"/api/v1/location-requests/{lr['id']}?wait=abc", headers=disp)
    assert r.status_code == 400 and r.get_json()["code"] == "INVALID_PARAMETER"


def test_request_for_an_incident(lapp: Any, disp: dict[str, str]) -> None:
    c = lapp.test_client()
    r = c.post("/api/v1/incidents", headers=disp, json={
        "location": {"text": "Desa Baler Bale Agung"}, "category": "kecelakaan", "description": "uji",
        "reported_at": utcnow().isoformat(), "channel": "call_110"})
    if r.status_code != 201:  # the place cannot be read as a coordinate: log it with a rough point
        r = c.post("/api/v1/incidents", headers=disp, json={
            "location": {"lat": -8.36, "lon": 114.62}, "category": "kecelakaan", "description": "uji",
            "reported_at": utcnow().isoformat(), "channel": "call_110"})
    incident = r.get_json()
    lr = _create(lapp, disp, incident_id=incident["id"])
    assert lr["incident_id"] == incident["id"]
    assert _state(lapp, disp, lr["id"])["incident_id"] == incident["id"]


def test_caller_page_is_small_strict_and_sets_no_cookie(lapp: Any, disp: dict[str, str]) -> None:
    lr = _create(lapp, disp)
    c = lapp.test_client()
    page = c.get(lr["url"], headers=HTML)
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert lr["short_code"] in html and "Petugas 110" in html
    assert len(page.data) < 30_000
    assert "Set-Cookie" not in page.headers
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert page.headers["Permissions-Policy"].startswith("geolocation=(self)")
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    # Nothing from elsewhere: the only absolute URL is the tile template the pin map would use.
    assert external_urls(html, allowed=[lapp.extensions["geo_service"].settings.tile_url]) == []
    assert "leaflet.js" in html and "<script src" not in html  # Leaflet only when the caller chooses the pin
    # Opening twice is recorded once; the console sees that the caller opened it.
    assert c.get(lr["url"], headers=HTML).status_code == 200
    assert len(_audit(lapp, "location_request.open", lr["id"])) == 1
    state = _state(lapp, disp, lr["id"])
    assert state["status"] == "waiting" and state["opened_at"] and state["location"] is None
    # Other pages keep geolocation off.
    assert "geolocation=()" in c.get("/health").headers["Permissions-Policy"]


def test_gps_answer_is_located_single_use_and_idempotent(lapp: Any, disp: dict[str, str]) -> None:
    lr = _create(lapp, disp)
    c = lapp.test_client()
    assert c.get(lr["url"], headers=HTML).status_code == 200
    answer = _gps()
    r = c.post(lr["url"], json=answer)
    assert r.status_code == 200 and "Set-Cookie" not in r.headers
    assert r.get_json() == {"status": "received", "accuracy_m": 12}  # the caller learns nothing else
    # A retry of the same answer (bad network) is answered the same; a different answer is refused.
    again = c.post(lr["url"], json=answer)
    assert again.status_code == 200 and again.get_json() == r.get_json()
    other = c.post(lr["url"], json={**answer, "lat": -8.35})
    assert other.status_code == 409 and other.get_json()["code"] == "LOCATION_REQUEST_USED"
    assert c.post(lr["url"], json={"source": "denied"}).status_code == 409

    state = _state(lapp, disp, lr["id"])
    assert state["status"] == "received" and state["received_at"] and state["source"] == "gps"
    loc = state["location"]
    assert loc["point"] == NEGARA and loc["uncertainty_m"] == 12.0
    assert loc["jurisdiction"]["polsek"]["name"] == "Polsek Negara"
    assert loc["jurisdiction"]["polres"]["name"] == "Polres Jembrana"
    assert loc["fix"]["source"] == "gps" and loc["fix"]["accuracy_m"] == 12.0 and loc["fix"]["age_s_at_receipt"] < 60
    assert not {f["code"] for f in loc["flags"]} & {"LOCATION_FIX_STALE", "LOCATION_FIX_INACCURATE"}
    # Same shape as POST /api/v1/locate gives for that point and radius.
    direct = c.post("/api/v1/locate", headers=disp, json={**NEGARA, "uncertainty_m": 12.0}).get_json()
    assert {k for k in direct} <= set(loc) and loc["match"] == direct["match"]

    used = c.get(lr["url"], headers=HTML)
    assert used.status_code == 410 and "sudah terkirim" in used.get_data(as_text=True)
    assert "Traceback" not in used.get_data(as_text=True)
    (row,) = _audit(lapp, "location_request.answer", lr["id"])
    assert row.actor == "caller" and row.detail["source"] == "gps" and row.detail["accuracy_m"] == 12.0
    # The console's map of the answer.
    m = c.get(f"/location-requests/{lr['id']}/map", headers=disp)
    assert m.status_code == 200 and "Polsek Negara" in m.get_data(as_text=True)


def test_old_or_imprecise_fix_is_flagged(lapp: Any, disp: dict[str, str]) -> None:
    lr = _create(lapp, disp)
    c = lapp.test_client()
    old = int((time.time() - 300) * 1000)
    assert c.post(lr["url"], json=_gps(accuracy_m=800.0, timestamp=old)).status_code == 200
    loc = _state(lapp, disp, lr["id"], "?lang=en")["location"]
    flags = {f["code"]: f for f in loc["flags"]}
    assert flags["LOCATION_FIX_STALE"]["params"]["age_s"] >= 299
    assert "old (" in flags["LOCATION_FIX_STALE"]["message"]  # worded in the reader's language
    assert flags["LOCATION_FIX_INACCURATE"]["params"]["accuracy_m"] == 800
    assert loc["fix"]["age_s_at_receipt"] >= 299
    loc_id = _state(lapp, disp, lr["id"])["location"]
    assert "kurang akurat" in {f["code"]: f for f in loc_id["flags"]}["LOCATION_FIX_INACCURATE"]["message"]


def test_denied_then_typed_place(lapp: Any, disp: dict[str, str]) -> None:
    lr = _create(lapp, disp)
    c = lapp.test_client()
    r = c.post(lr["url"], json={"source": "denied"})
    assert r.status_code == 200 and r.get_json()["status"] == "denied"
    assert c.post(lr["url"], json={"source": "denied"}).status_code == 200  # idempotent
    state = _state(lapp, disp, lr["id"])
    assert state["status"] == "denied" and state["location"] is None and state["denied_at"]
    assert len(_audit(lapp, "location_request.denied", lr["id"])) == 1
    # The page still opens: the caller may mark a pin or type the village.
    assert c.get(lr["url"], headers=HTML).status_code == 200
    r = c.post(lr["url"], json={"source": "text", "text": "  Desa   Baler Bale Agung, dekat pura  "})
    assert r.status_code == 200 and r.get_json()["status"] == "received"
    state = _state(lapp, disp, lr["id"])
    assert state["status"] == "received" and state["source"] == "text"
    assert state["text"] == "Desa Baler Bale Agung, dekat pura"


def test_expired_link(lapp: Any, disp: dict[str, str]) -> None:
    lr = _create(lapp, disp)
    with lapp.extensions["geo_service"].storage.transaction() as s:
        s.execute(update(LocationRequest).where(LocationRequest.public_id == lr["id"])
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
    c = lapp.test_client()
    page = c.get(lr["url"], headers=HTML)
    assert page.status_code == 410 and "kedaluwarsa" in page.get_data(as_text=True)
    r = c.post(lr["url"], json=_gps())
    assert r.status_code == 410 and r.get_json()["code"] == "LOCATION_REQUEST_EXPIRED"
    assert _state(lapp, disp, lr["id"])["status"] == "expired"
    assert _state(lapp, disp, lr["id"], "?wait=5")["status"] == "expired"  # no waiting on a closed request


def test_ttl_setting(backend: str, tmp_path: Any) -> None:
    if backend != "sqlite":
        pytest.skip("settings are backend-independent")
    from geo_service.config import load_settings

    settings = load_settings(env={"GEO_SERVICE_LOCATION_REQUEST_TTL_S": "600"}, overrides={"data_dir": str(tmp_path)})
    assert settings.location_request_ttl_s == 600 and settings.location_request_wait_s == 20.0


@pytest.mark.parametrize("mangle", ["flip", "short", "long", "other-secret", "garbage"])
def test_tampered_or_made_up_tokens(lapp: Any, disp: dict[str, str], mangle: str) -> None:
    lr = _create(lapp, disp)
    token = lr["url"].removeprefix("/l/")
    if mangle == "flip":
        bad = token[:-1] + ("A" if token[-1] != "A" else "B")
    elif mangle == "short":
        bad = token[:-2]
    elif mangle == "long":
        bad = token + "x" * 5000
    elif mangle == "other-secret":
        bad = svc.make_token("another-secret-0123456789", token[:svc.LINK_ID_CHARS])
    else:
        bad = "%E2%80%AEabc<script>"
    c = lapp.test_client()
    page = c.get(f"/l/{bad}", headers=HTML)
    assert page.status_code == 404 and "tidak berlaku" in page.get_data(as_text=True)
    assert "Set-Cookie" not in page.headers
    r = c.post(f"/l/{bad}", json=_gps())
    assert r.status_code == 404 and r.get_json()["code"] == "LOCATION_REQUEST_INVALID"
    assert _state(lapp, disp, lr["id"])["status"] == "waiting"  # the genuine request is untouched


def test_malformed_answers(lapp: Any, disp: dict[str, str]) -> None:
    lr = _create(lapp, disp)
    c = lapp.test_client()
    for body, pointer in (({"source": "gps", "lat": 91, "lon": 114.6}, "/lat"),
                          ({"source": "gps", "lat": -8.3, "lon": 114.6, "accuracy_m": -1}, "/accuracy_m"),
                          ({"source": "gps", "lat": -8.3, "lon": 114.6, "timestamp": "yesterday"}, "/timestamp"),
                          ({"source": "text", "text": ""}, "/text"),
                          ({"source": "sms"}, "/source")):
        r = c.post(lr["url"], json=body)
        assert r.status_code == 400, body
        assert pointer in {e["pointer"] for e in r.get_json()["errors"]}
    assert c.post(lr["url"], data="lat=1").status_code == 415
    assert _state(lapp, disp, lr["id"])["status"] == "waiting"


def test_rate_limit_per_user(lapp: Any) -> None:
    headers = {"Authorization": f"Bearer {make_token(lapp, 'dispatcher', name='locreq-busy')}"}
    c = lapp.test_client()
    limit = svc.CREATE_LIMIT[0]
    codes = [c.post("/api/v1/location-requests", headers=headers, json={}).status_code for _ in range(limit + 1)]
    assert codes[:limit] == [201] * limit
    assert codes[limit] == 429
    r = c.post("/api/v1/location-requests", headers=headers, json={})
    assert r.get_json()["code"] == "RATE_LIMITED" and r.get_json()["retry_after"] > 0
    # Another user is not affected.
    other = {"Authorization": f"Bearer {make_token(lapp, 'dispatcher', name='locreq-calm')}"}
    assert c.post("/api/v1/location-requests", headers=other, json={}).status_code == 201


def test_long_poll_returns_when_the_answer_arrives(lapp: Any, disp: dict[str, str]) -> None:
    lr = _create(lapp, disp)
    first = _state(lapp, disp, lr["id"])
    # Nothing happens: the wait ends at its bound with the same state.
    started = time.monotonic()
    same = _state(lapp, disp, lr["id"], f"?wait=1.5&since={first['version']}")
    assert 1.3 <= time.monotonic() - started < 5 and same["version"] == first["version"]
    # The caller answers during the wait: the console hears it at once, not at the bound.
    timer = threading.Timer(0.7, lambda: lapp.test_client().post(lr["url"], json=_gps()))
    timer.start()
    started = time.monotonic()
    got = _state(lapp, disp, lr["id"], f"?wait=10&since={first['version']}")
    elapsed = time.monotonic() - started
    timer.join()
    assert got["status"] == "received" and got["location"]["jurisdiction"]["polsek"]["name"] == "Polsek Negara"
    assert elapsed < 4, elapsed


def test_openapi_documents_the_endpoints(lapp: Any) -> None:
    spec = lapp.test_client().get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert set(paths["/api/v1/location-requests"]) == {"post"}
    assert paths["/api/v1/location-requests"]["post"]["x-roles"] == ["admin", "dispatcher", "supervisor"]
    assert "get" in paths["/api/v1/location-requests/{public_id}"]
    assert "security" not in paths["/l/{token}"]["post"]  # public: the token is the key


def test_long_polls_never_take_every_worker(lapp: Any, disp: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    from geo_service.web import location_requests as web

    slots = multiprocessing.BoundedSemaphore(1)
    monkeypatch.setattr(web, "LONG_POLL_SLOTS", slots)
    lr = _create(lapp, disp)
    assert slots.acquire(block=False)  # another console holds the only slot
    started = time.monotonic()
    assert _state(lapp, disp, lr["id"], "?wait=10")["status"] == "waiting"
    assert time.monotonic() - started < 2  # answered at once instead of holding this worker
    slots.release()
    started = time.monotonic()
    _state(lapp, disp, lr["id"], "?wait=1")
    assert time.monotonic() - started >= 0.9  # a free slot: the wait is honoured, then given back
    assert slots.acquire(block=False)
    slots.release()


def test_racing_answers_close_the_request_once(lapp: Any, disp: dict[str, str]) -> None:
    lr = _create(lapp, disp)
    answers = [_gps(lat=NEGARA["lat"] + i * 1e-4) for i in range(4)]
    barrier = threading.Barrier(len(answers))
    results: list[tuple[int, dict[str, Any]]] = []

    def send(body: dict[str, Any]) -> None:
        client = lapp.test_client()
        barrier.wait()
        r = client.post(lr["url"], json=body)
        results.append((r.status_code, body))

    threads = [threading.Thread(target=send, args=(a,)) for a in answers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    accepted = [body for status, body in results if status == 200]
    assert len(accepted) == 1, results
    # The others are refused as used (or, on SQLite, told to retry while the writer holds the file).
    assert all(status in (409, 503) for status, _ in results if status != 200), results
    loc = _state(lapp, disp, lr["id"])["location"]
    assert loc["point"]["lat"] == accepted[0]["lat"]
    assert len(_audit(lapp, "location_request.answer", lr["id"])) == 1


def test_a_unit_supervisor_reads_only_requests_of_its_incidents(lapp: Any, disp: dict[str, str]) -> None:
    c = lapp.test_client()
    r = c.post("/api/v1/incidents", headers=disp, json={
        "location": {"lat": -8.6705, "lon": 115.2126}, "category": "pencurian", "description": "uji",
        "reported_at": utcnow().isoformat(), "channel": "call_110"})
    assert r.status_code == 201, r.get_json()
    incident = r.get_json()
    lr = _create(lapp, disp, incident_id=incident["id"])
    polres = incident["unit"]["polres"]["code"]
    own = {"Authorization": f"Bearer {make_token(lapp, 'supervisor', unit=polres, name='locreq-sup-own')}"}
    other_unit = "51.01" if polres != "51.01" else "51.02"
    other = {"Authorization": f"Bearer {make_token(lapp, 'supervisor', unit=other_unit, name='locreq-sup-other')}"}
    assert c.get(f"/api/v1/location-requests/{lr['id']}", headers=own).status_code == 200
    r = c.get(f"/api/v1/location-requests/{lr['id']}", headers=other)
    assert r.status_code == 403 and r.get_json()["code"] == "OUT_OF_SCOPE"
    r = c.post("/api/v1/location-requests", headers=other, json={"incident_id": incident["id"]})
    assert r.status_code == 403


def test_links_use_the_public_address_when_one_is_set(backend: str, tmp_path: Any) -> None:
    """A dispatcher on an intranet name sends callers and officers a link their phones can open."""
    if backend != "sqlite":
        pytest.skip("settings are backend-independent")
    from geo_service.config import ConfigError, load_settings

    app = make_app(backend, tmp_path, public_url="https://110.contoh.go.id")
    try:
        headers = {"Authorization": f"Bearer {make_token(app, 'dispatcher', name='public-url')}"}
        lr = _create(app, headers)
        assert "buka https://110.contoh.go.id" + lr["url"] in lr["sms_text"]
        assert "localhost" not in lr["sms_text"]
        client = app.test_client()
        form = client.get("/", headers={**headers, **HTML}).get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf is not None
        page = client.post("/", headers={**headers, **HTML}, data={
            "csrf_token": html.unescape(csrf.group(1)), "q": "-8.7180, 115.1700", "action": "officer"})
        assert page.status_code == 200
        assert 'data-copy="https://110.contoh.go.id/p/' in page.get_data(as_text=True)
    finally:
        dispose_app(app)
    env = {"GEO_SERVICE_PUBLIC_URL": "https://110.contoh.go.id/"}
    assert load_settings(env=env, overrides={"data_dir": str(tmp_path)}).public_url == "https://110.contoh.go.id"
    for bad in ("javascript:alert(1)", "110.contoh.go.id", "https://a b"):
        with pytest.raises(ConfigError):
            load_settings(env={"GEO_SERVICE_PUBLIC_URL": bad}, overrides={"data_dir": str(tmp_path)})
