"""Location requests (issue 15) in a real headless Chromium against a real `geo-service serve`.

A dispatcher asks for the caller's location in the console; a second browser context (the caller's
phone, with or without the geolocation permission) opens the link; the console shows the answer
without a reload. Also the denied and expired paths, and the weight of the caller's page.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.web.test_browser_pages import HOSTILE, Watch, _login, _map_frame, browser, server  # noqa: F401

pytestmark = pytest.mark.browser
# Inside Polsek Negara (Polres Jembrana).
PHONE_AT = {"latitude": -8.3582361, "longitude": 114.6197917, "accuracy": 8}
PHONE = {"viewport": {"width": 390, "height": 800}, "is_mobile": True, "has_touch": True, "locale": "id-ID",
         "user_agent": "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
                       "Chrome/120.0 Mobile Safari/537.36"}


def _console_request(page: Any) -> str:
    """Click 'Minta lokasi penelepon' in the console; returns the caller's link (path)."""
    page.click("#locreq summary")
    page.click("#locreq-create")
    page.wait_for_selector("#locreq-url[href^='/l/']")
    assert page.get_attribute("#locreq-status", "data-status") == "waiting"
    assert page.inner_text("#locreq-code")
    assert "buka http" in page.input_value("#locreq-sms")
    qr = page.get_attribute("#locreq-qr", "src") or ""
    assert qr.startswith("data:image/svg+xml")
    page.evaluate("window.__noReload = 1")
    return page.get_attribute("#locreq-url", "href") or ""


def _phone(browser: Any, **context: Any) -> tuple[Any, Any]:  # noqa: F811
    ctx = browser.new_context(**PHONE, **context)
    return ctx, ctx.new_page()


def test_caller_position_reaches_the_console_live(server: dict[str, Any], browser: Any,  # noqa: F811
                                                  artifacts_dir: Path) -> None:
    console = browser.new_page(viewport={"width": 1400, "height": 900}, locale="id-ID")
    console_watch = Watch(console, server["base"])
    _login(console, server["base"], "dispatcher1")
    link = _console_request(console)

    ctx, phone = _phone(browser, permissions=["geolocation"], geolocation=PHONE_AT)
    watch = Watch(phone, server["base"])
    phone.goto(server["base"] + link)
    phone.wait_for_selector("#state.ok", timeout=20000)
    assert "Lokasi terkirim" in phone.inner_text("#state")
    assert "±8 m" in phone.inner_text("#detail")
    phone.wait_for_load_state("networkidle")
    phone.screenshot(path=str(artifacts_dir / "locreq-phone-sent.png"))
    html_bytes = len(phone.content().encode())
    (artifacts_dir / "locreq-phone-weight.json").write_text(json.dumps({"total_bytes": watch.bytes,
                                                                        "html_bytes": html_bytes}))
    assert watch.bytes < 30_000, watch.bytes  # the page and its answer, everything the phone downloaded
    assert not any("leaflet" in url for url in watch.hosts)  # the map only loads for the pin fallback
    assert not watch.foreign(), watch.foreign()
    assert ctx.cookies() == []  # the caller's phone keeps no cookie of ours

    # The console hears it without a reload: point, accuracy, age, the right Polsek, the map.
    console.wait_for_selector("#locreq-status[data-status=received]", timeout=30000)
    assert console.evaluate("window.__noReload") == 1
    juris = console.inner_text("#locreq-juris")
    assert "Polsek Negara" in juris and "Polres Jembrana" in juris
    assert "-8.358236, 114.619792" in console.inner_text("#locreq-summary")
    fix = console.inner_text("#locreq-fix")
    assert "gps" in fix and "±8 m" in fix and "Umur posisi" in fix
    frame = _map_frame(console)
    frame.wait_for_selector("path.leaflet-interactive", timeout=15000)  # unit polygon and accuracy circle
    assert "Polsek Negara" in frame.content()
    console.screenshot(path=str(artifacts_dir / "locreq-console-received.png"))
    assert not console_watch.foreign(), console_watch.foreign()

    # The link is used: opening it again says so, clearly.
    phone.goto(server["base"] + link)
    assert "sudah terkirim" in phone.inner_text("#state")
    ctx.close()
    console.close()


def test_caller_denies_then_types_the_village(server: dict[str, Any], browser: Any,  # noqa: F811
                                              artifacts_dir: Path) -> None:
    console = browser.new_page(viewport={"width": 1400, "height": 900}, locale="id-ID")
    console_watch = Watch(console, server["base"])
    _login(console, server["base"], "dispatcher1")
    link = _console_request(console)

    ctx, phone = _phone(browser)  # no geolocation permission: the browser refuses
    phone.goto(server["base"] + link)
    phone.wait_for_selector("#next:not([hidden])", timeout=20000)
    assert "ditolak" in phone.inner_text("#state")
    assert "110" in phone.inner_text("#next") and "desa" in phone.inner_text("#next")
    phone.screenshot(path=str(artifacts_dir / "locreq-phone-denied.png"))
    console.wait_for_selector("#locreq-status[data-status=denied]", timeout=30000)
    assert "menolak" in console.inner_text("#locreq-status")

    phone.click("#text-open")
    phone.fill("#place", f"Desa Baler Bale Agung, dekat pura {HOSTILE}")
    phone.click("#text-send")
    phone.wait_for_selector("#state.ok")
    console.wait_for_selector("#locreq-status[data-status=received]", timeout=30000)
    assert f"Desa Baler Bale Agung, dekat pura {HOSTILE}" in console.inner_text("#locreq-fix")  # shown as text
    assert not console_watch.dialogs and not console.query_selector("#locreq-fix img")
    assert console.evaluate("window.__noReload") == 1
    ctx.close()
    console.close()


def test_pin_fallback_loads_the_map_only_when_asked(server: dict[str, Any], browser: Any,  # noqa: F811
                                                    artifacts_dir: Path) -> None:
    console = browser.new_page(viewport={"width": 1400, "height": 900}, locale="id-ID")
    _login(console, server["base"], "dispatcher1")
    link = _console_request(console)
    ctx, phone = _phone(browser)
    watch = Watch(phone, server["base"])
    phone.goto(server["base"] + link)
    phone.wait_for_selector("#next:not([hidden])", timeout=20000)
    assert not any("leaflet" in url for url in watch.hosts)
    phone.click("#pin-open")
    phone.wait_for_selector("#pinmap .pin", timeout=15000)
    phone.screenshot(path=str(artifacts_dir / "locreq-phone-pin.png"))
    phone.click("#pin-send")
    phone.wait_for_selector("#state.ok")
    assert any("leaflet-1.9.3/leaflet.js" in url for url in watch.hosts)
    assert not watch.foreign(), watch.foreign()
    console.wait_for_selector("#locreq-status[data-status=received]", timeout=30000)
    assert "pin" in console.inner_text("#locreq-fix")
    assert console.inner_text("#locreq-juris")  # the pin opens on the published units: it lands in one
    ctx.close()
    console.close()


def test_expired_link(server: dict[str, Any], browser: Any) -> None:  # noqa: F811
    console = browser.new_page(viewport={"width": 1400, "height": 900}, locale="id-ID")
    _login(console, server["base"], "dispatcher1")
    link = _console_request(console)
    db = Path(server["env"]["GEO_SERVICE_DATA_DIR"]) / "geo_service.sqlite3"
    with sqlite3.connect(db) as conn:  # the clock moves on: expire it now
        conn.execute("UPDATE location_requests SET expires_at = created_at WHERE link_id = ?", (link[3:15],))
    ctx, phone = _phone(browser, permissions=["geolocation"], geolocation=PHONE_AT)
    response = phone.goto(server["base"] + link)
    assert response is not None and response.status == 410
    assert "kedaluwarsa" in phone.inner_text("#state") and "110" in phone.inner_text("#closed")
    console.wait_for_selector("#locreq-status[data-status=expired]", timeout=30000)
    assert "kedaluwarsa" in console.inner_text("#locreq-status")
    ctx.close()
    console.close()
