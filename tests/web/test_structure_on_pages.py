"""Issue 14: the console's side panel, the locate map's jurisdiction box and the officer page show the
unit types (Polresta, Polsek Kawasan ...) and the boundary set in force with its first day, in the
page's language, on both backends (HTML through the test client; Chromium in
test_browser_structure.py)."""

from __future__ import annotations

import html as html_lib
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from babel.dates import format_date

from geo_service.maps.render import render_locate_map
from geo_service.services.structure import WIB
from geo_service.storage import repo
from tests.conftest import dispose_app, make_app
from tests.web.test_pages import PASSWORD, csrf_of

BENOA = "8.7464 LS 115.2110 BT"  # the port of Benoa: Polsek Kawasan Laut Benoa under Polresta Denpasar


@pytest.fixture(scope="module")
def sapp(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from geo_service.services import accounts

    application = make_app(backend, tmp_path_factory.mktemp(f"structure-pages-{backend}"), secure_cookies=False)
    with application.extensions["geo_service"].storage.transaction() as s:
        accounts.create_user(s, username="disp", password=PASSWORD, role="dispatcher", unit_code=None, actor="test")
    yield application
    dispose_app(application)


def _login(app: Any) -> Any:
    c = app.test_client()
    token = csrf_of(c.get("/login").get_data(as_text=True))
    assert c.post("/login", data={"username": "disp", "password": PASSWORD, "csrf_token": token}).status_code == 302
    return c


def _set_line(app: Any, lang: str) -> str:
    """What the pages must say about the set in force, from storage (not from the page)."""
    set_id = app.extensions["geo_service"].holder.current().set_id
    with app.extensions["geo_service"].storage.session() as s:
        bset = repo.get_boundary_set(s, set_id)
        day = (bset.effective_from or bset.published_at).astimezone(WIB).date()
    words = {"id": "Set {id} (berlaku sejak {date})", "en": "Set {id} (in force since {date})"}[lang]
    return words.format(id=set_id, date=format_date(day, "d MMM y", locale=lang))


def _text_of(html: str, element_id: str) -> str:
    m = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:span|p)>', html, re.S)
    assert m, f"no #{element_id} on the page"
    return html_lib.unescape(re.sub(r"<[^>]+>", "", m.group(1))).strip()


@pytest.mark.parametrize(("lang", "types", "box_title"), [
    ("id", "Jenis satuan: Polsek Kawasan (kawasan khusus) · Polresta (kota) · Polda (provinsi)", "Jenis satuan"),
    ("en", "Unit type: Polsek Kawasan (special area) · Polresta (city) · Polda (province)", "Unit type"),
])
def test_console_panel_and_map_show_unit_types_and_the_set_in_force(sapp: Any, lang: str, types: str,
                                                                     box_title: str) -> None:
    c = _login(sapp)
    page = c.get(f"/?lang={lang}").get_data(as_text=True)
    r = c.post(f"/?lang={lang}", data={"q": BENOA, "csrf_token": csrf_of(page), "action": "locate"})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert _text_of(html, "unit-types") == types
    assert _text_of(html, "set-in-force") == _set_line(sapp, lang)
    # The map (srcdoc of the iframe) carries the same words in its jurisdiction box.
    frame = re.search(r'<iframe[^>]*id="map"[^>]*srcdoc="([^"]*)"', html) or \
        re.search(r'<iframe[^>]*srcdoc="([^"]*)"[^>]*id="map"', html)
    assert frame, "no map frame"
    srcdoc = html_lib.unescape(frame.group(1))
    assert box_title in srcdoc and _set_line(sapp, lang) in srcdoc
    assert json.dumps(types.split(": ", 1)[1])[1:-1] in srcdoc  # the box's lines travel as JSON


@pytest.mark.parametrize(("lang", "words"), [("id", "perkiraan, bukan batas hasil survei"),
                                              ("en", "approximate area, not a surveyed boundary")])
def test_console_panel_and_map_popup_say_a_special_area_is_approximate(sapp: Any, lang: str, words: str) -> None:
    c = _login(sapp)
    page = c.get(f"/?lang={lang}").get_data(as_text=True)
    html = c.post(f"/?lang={lang}", data={"q": BENOA, "csrf_token": csrf_of(page), "action": "locate"}
                  ).get_data(as_text=True)
    assert _text_of(html, "summary").endswith(f"Polsek Kawasan Laut Benoa ({words})")
    frame = re.search(r'<iframe[^>]*srcdoc="([^"]*)"', html)
    assert frame, "no map frame"
    assert f"Polsek Kawasan Laut Benoa ({words})" in html_lib.unescape(frame.group(1))


def test_officer_page_shows_unit_types_and_the_set_in_force(sapp: Any) -> None:
    c = _login(sapp)
    page = c.get("/").get_data(as_text=True)
    r = c.post("/", data={"q": BENOA, "csrf_token": csrf_of(page), "action": "officer"})
    link = re.search(r'href="(/p/[^"]+)"', r.get_data(as_text=True))
    assert link, "no officer link"
    officer = sapp.test_client().get(link.group(1))
    assert officer.status_code == 200
    html = officer.get_data(as_text=True)
    assert _text_of(html, "unit-types") == "Jenis satuan: Polsek Kawasan (kawasan khusus) · Polresta (kota) · " \
                                           "Polda (provinsi)"
    assert _text_of(html, "set-in-force") == _set_line(sapp, "id")
    english = sapp.test_client().get(link.group(1) + "?lang=en").get_data(as_text=True)
    assert _text_of(english, "set-in-force") == _set_line(sapp, "en")
    assert "Polresta (city)" in _text_of(english, "unit-types")


def test_the_map_box_without_a_set_date_or_types_stays_as_before() -> None:
    result = {"status": "valid", "match": "inside", "point": {"lon": 115.2, "lat": -8.65},
              "jurisdiction": {"polsek": {"code": "51.71.01", "name": "Polsek Denpasar Selatan"}}}
    plain = render_locate_map(result, tile_url=None)
    assert "Jenis satuan" not in plain and "berlaku sejak" not in plain
    dated = render_locate_map({**result, "unit_types": {"polsek": "polsek"},
                               "set_in_force": {"id": 7, "since": "2016-05-03"}}, tile_url=None, lang="en")
    assert "Set 7 (in force since 3 May 2016)" in dated and "Polsek (district)" in dated
    dated_id = render_locate_map({**result, "set_in_force": {"id": 7, "since": "2016-05-03"}}, tile_url=None)
    assert "Set 7 (berlaku sejak 3 Mei 2016)" in dated_id
