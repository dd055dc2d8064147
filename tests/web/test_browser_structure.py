"""Issue 14 in a real headless Chromium against a real `geo-service serve`: the console's side panel,
the map's jurisdiction box and the officer page (with its map) show the unit types and
"Set <id> (berlaku sejak <date>)"."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.web.test_browser_pages import Watch, _login, _map_frame, browser, server  # noqa: F401

pytestmark = pytest.mark.browser
SET_ID = re.compile(r"^Set \d+ \(berlaku sejak \d{1,2} \w{3} \d{4}\)$")
SET_EN = re.compile(r"^Set \d+ \(in force since \d{1,2} \w{3} \d{4}\)$")


def test_console_and_officer_page_show_unit_types_and_set(server: dict[str, Any], browser: Any,  # noqa: F811
                                                          artifacts_dir: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="id-ID")
    watch = Watch(page, server["base"])
    _login(page, server["base"], "dispatcher1")
    page.fill("#q", "8°21'29.5\" LS 114°37'11.3\" BT")
    page.press("#q", "Enter")
    page.wait_for_selector("#structure")
    types = page.inner_text("#unit-types")
    assert types.startswith("Jenis satuan: Polsek (kecamatan)") and "(kabupaten)" in types, types
    set_line = page.inner_text("#set-in-force")
    assert SET_ID.match(set_line), set_line
    frame = _map_frame(page)
    frame.wait_for_selector("path.leaflet-interactive", timeout=15000)
    box = frame.inner_text("body")
    assert "Jenis satuan" in box and set_line in box  # the map's jurisdiction box says the same
    page.screenshot(path=str(artifacts_dir / "console-structure.png"))

    # The officer's link of the same answer.
    page.click("#send-officer")
    page.wait_for_selector("a[href^='/p/']")
    link = page.get_attribute("a[href^='/p/']", "href")
    officer = browser.new_page(viewport={"width": 390, "height": 800}, locale="en-US")
    officer.goto(server["base"] + str(link) + "?lang=en")
    officer.wait_for_selector("#set-in-force")
    assert SET_EN.match(officer.inner_text("#set-in-force")), officer.inner_text("#set-in-force")
    assert officer.inner_text("#unit-types").startswith("Unit type: Polsek (district)")
    officer_box = _map_frame(officer).inner_text("body")
    assert "in force since" in officer_box
    officer.screenshot(path=str(artifacts_dir / "officer-structure.png"))
    assert not watch.foreign(), watch.foreign()
    officer.close()
    page.close()
