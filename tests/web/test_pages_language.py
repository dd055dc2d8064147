"""Page language through the Flask test client: how it is chosen, and refused changes worded in it."""

from __future__ import annotations

import re
from typing import Any

from tests.web.test_pages import csrf_of, login, page_app  # noqa: F401


def test_language_from_query_cookie_and_accept_language(page_app: Any) -> None:  # noqa: F811
    c = page_app.test_client()
    assert "Kata sandi" in c.get("/login").get_data(as_text=True)  # default: Bahasa Indonesia
    assert "Password" in c.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "Kata sandi" in c.get("/login", headers={"Accept-Language": "id-ID,id;q=0.9,en;q=0.5"}).get_data(
        as_text=True)
    assert "Kata sandi" in c.get("/login", headers={"Accept-Language": "fr-FR"}).get_data(as_text=True)
    c.get("/lang/en")  # the header toggle sets the cookie
    assert "Password" in c.get("/login", headers={"Accept-Language": "id"}).get_data(as_text=True)
    html = c.get("/login?lang=id").get_data(as_text=True)  # ?lang= wins over the cookie
    assert "Kata sandi" in html and '<html lang="id">' in html


def test_a_refused_change_is_worded_in_the_page_language(page_app: Any) -> None:  # noqa: F811
    c = login(page_app, "disp")
    token = csrf_of(c.get("/").get_data(as_text=True))
    r = c.post("/incidents/new", data={"q": "-8.358 114.62", "category": "kebakaran", "description": "tes",
                                       "channel": "aml", "csrf_token": token})
    url = r.headers["Location"]
    page = c.get(url).get_data(as_text=True)
    assert "Kebakaran" in page and "AML (lokasi ponsel)" in page and "WITA" in page and "baru saja" in page
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    c.post(url, data={"status": "dalam_proses", "version": version, "csrf_token": token})
    stale = c.post(url, data={"status": "selesai", "version": version, "csrf_token": token}).get_data(as_text=True)
    assert "sudah diubah orang lain" in stale
    c.set_cookie("lang", "en")
    stale = c.post(url, data={"status": "selesai", "version": version, "csrf_token": token}).get_data(as_text=True)
    assert "Someone else changed this incident" in stale and "Fire" in stale and "status changed" in stale


def test_error_pages_speak_the_page_language(page_app: Any) -> None:  # noqa: F811
    c = login(page_app, "off")  # an officer may not open the admin pages
    html = c.get("/admin/boundaries", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "403 — Tidak diizinkan" in html and "Kembali" in html
    html = c.get("/admin/boundaries?lang=en", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "403 — Not allowed" in html and "Back" in html
    html = c.get("/incidents/999999", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "404 — Tidak ditemukan" in html
