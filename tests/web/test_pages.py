"""Pages through the Flask test client: login, CSRF, console, incidents, recap, admin (HTML checks;
the real-browser checks are in test_browser_pages.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import dispose_app, make_app

PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def page_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from geo_service.services import accounts

    application = make_app("sqlite", tmp_path_factory.mktemp("pages"), secure_cookies=False)
    with application.extensions["geo_service"].storage.transaction() as s:
        for name, role, unit in (("disp", "dispatcher", None), ("sup", "supervisor", "51.01"),
                                 ("adm", "admin", None), ("off", "officer", "51.01.01")):
            accounts.create_user(s, username=name, password=PASSWORD, role=role, unit_code=unit, actor="test")
    yield application
    dispose_app(application)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


def login(app: Any, user: str) -> Any:
    c = app.test_client()
    token = csrf_of(c.get("/login").get_data(as_text=True))
    r = c.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return c


def test_pages_need_login(page_app: Any) -> None:
    c = page_app.test_client()
    r = c.get("/", headers={"Accept": "text/html"})
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")


def test_wrong_password_and_csrf(page_app: Any) -> None:
    c = page_app.test_client()
    token = csrf_of(c.get("/login").get_data(as_text=True))
    r = c.post("/login", data={"username": "disp", "password": "nope", "csrf_token": token})
    assert r.status_code == 200 and "salah" in r.get_data(as_text=True)
    r = c.post("/login", data={"username": "disp", "password": PASSWORD}, headers={"Accept": "text/html"})
    assert r.status_code == 403  # no CSRF token


def test_console_locates_and_logs_an_incident(page_app: Any) -> None:
    c = login(page_app, "disp")
    html = c.get("/").get_data(as_text=True)
    assert "/api/v1/units?level=polsek" in html  # the units are fetched, not inlined
    assert len(html.encode()) < 60_000
    token = csrf_of(html)
    r = c.post("/", data={"q": "8°21'29.5\" LS 114°37'11.3\" BT", "csrf_token": token, "action": "locate"})
    text = r.get_data(as_text=True)
    assert "Polsek Negara" in text and "Polres Jembrana" in text
    assert "LS" in text and "50L" in text  # DMS and UTM shown
    r = c.post("/incidents/new", data={"q": "-8.358 114.62", "category": "pencurian", "description": "tes",
                                       "channel": "call_110", "csrf_token": token})
    assert r.status_code == 302
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "Belum Ditangani" in page and "Polsek Negara" in page
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    r = c.post(r.headers["Location"], data={"status": "dalam_proses", "version": version, "csrf_token": token})
    assert r.status_code == 302
    assert "Dalam Proses" in c.get(r.headers["Location"]).get_data(as_text=True)
    # A stale version is refused with a clear message, nothing lost.
    r = c.post(r.headers["Location"], data={"status": "selesai", "version": version, "csrf_token": token})
    assert r.status_code == 200 and 'class="error"' in r.get_data(as_text=True)


def test_recap_page_matches_the_api(page_app: Any) -> None:
    from geo_service.services import incidents

    with page_app.extensions["geo_service"].storage.transaction() as s:
        incidents.seed_demo_incidents(s, page_app.extensions["geo_service"].holder.current(), count=30)
    c = login(page_app, "sup")
    html = c.get("/reports/weekly").get_data(as_text=True)
    api = c.get("/api/v1/reports/weekly").get_json()
    assert api["unit"]["code"] == "51.01"  # the supervisor's own unit
    assert f'data-key="total">{api["total"]}<' in html
    for status, n in api["counts"].items():
        assert f'data-key="{status}">{n}<' in html
    assert 'id="recap-map"' in html and "format=csv" in html
    # Another Polres is not visible to this supervisor.
    assert c.get("/reports/weekly?unit=51.03", headers={"Accept": "text/html"}).status_code == 403


def test_incidents_page_with_map(page_app: Any) -> None:
    c = login(page_app, "sup")
    r = c.get("/incidents?heat=1")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'id="incidents-map"' in html and 'id="incident-list"' in html


def test_admin_pages(page_app: Any) -> None:
    c = login(page_app, "adm")
    html = c.get("/admin/boundaries").get_data(as_text=True)
    assert "Bali" in html and 'enctype="multipart/form-data"' in html
    assert c.get("/admin/boundaries/1").status_code == 200
    assert c.get("/admin/stations").status_code == 200
    c2 = login(page_app, "disp")
    assert c2.get("/admin/boundaries", headers={"Accept": "text/html"}).status_code == 403


def test_upload_through_the_admin_form(page_app: Any, tmp_path: Path) -> None:
    import io

    c = login(page_app, "adm")
    token = csrf_of(c.get("/admin/boundaries").get_data(as_text=True))
    data = (Path(__file__).resolve().parents[2] / "boundaries" / "bali_kabupaten_kota.geojson").read_bytes()
    r = c.post("/admin/boundaries", data={"file": (io.BytesIO(data), "kab.geojson"), "level": "polres",
                                          "csrf_token": token}, content_type="multipart/form-data")
    assert r.status_code == 302
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "draf" in page and 'id="publish"' in page


def test_logout(page_app: Any) -> None:
    c = login(page_app, "disp")
    token = csrf_of(c.get("/").get_data(as_text=True))
    assert c.post("/logout", data={"csrf_token": token}).status_code == 302
    assert c.get("/", headers={"Accept": "text/html"}).status_code == 302


def test_candidate_button_text_locates(page_app: Any) -> None:
    """Candidate buttons (for a suspect reading) send the point with hemisphere words; that text
    must parse without doubt and locate."""
    c = login(page_app, "disp")
    token = csrf_of(c.get("/").get_data(as_text=True))
    r = c.post("/", data={"q": "8.6500000 LS 115.2200000 BT", "csrf_token": token})
    html = r.get_data(as_text=True)
    assert 'data-status="valid"' in html and "Polresta Denpasar" in html


def test_officer_page_words_the_reasons_with_their_figures(page_app: Any) -> None:
    """The link carries each flag's figures; the officer page words them in the officer's language."""
    c = login(page_app, "disp")
    token = csrf_of(c.get("/").get_data(as_text=True))
    html = c.post("/", data={"q": "8.358, 114.62", "csrf_token": token, "action": "officer"}).get_data(as_text=True)
    url = re.search(r'id="officer-url" href="([^"]+)"', html).group(1)
    for lang, word in (("id", "ketelitian hanya sekitar"), ("en", "precise to about")):
        page = page_app.test_client().get(f"{url}?lang={lang}").get_data(as_text=True)
        reasons = page[page.index('class="flags"'):]
        sentence = reasons[reasons.index(word):][:80]
        assert re.search(r"\d+ m", sentence) and "?" not in sentence, sentence
