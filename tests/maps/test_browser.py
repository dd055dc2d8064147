"""Rendered pages in headless Chromium: they work offline, load only from our server, and show
hostile names as text. Skipped on a laptop without Chromium or Playwright; a failure under CI=true."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from geo_service.maps import ASSETS_DIR, render_locate_map, render_overview_map
from tests.conftest import IN_CI

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not IN_CI:
    # On a laptop without Chromium these tests skip; under CI=true a missing browser is a failure.
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        pytest.skip("no Chromium on this machine", allow_module_level=True)
else:
    import playwright.sync_api as sync_api  # noqa: F401  (ImportError fails the run in CI)

    assert shutil.which(CHROMIUM), "CI=true needs Debian's chromium"

HOSTILE = "<img src=x onerror=alert(1)>`${alert(2)}`"
LON, LAT = 114.62, -8.358


def _square(code: str, name: str, lon: float, lat: float, half: float = 0.01) -> dict[str, Any]:
    ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half],
            [lon - half, lat + half], [lon - half, lat - half]]
    return {"type": "Feature",
            "properties": {"code": code, "name": name, "level": "polsek", "parent_code": "51.01"},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


UNITS: dict[str, Any] = {"type": "FeatureCollection", "features": [_square("51.01.01", "Polsek " + HOSTILE, LON, LAT)]}


class _Handler(BaseHTTPRequestHandler):
    pages: dict[str, str] = {}

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        path = urlsplit(self.path).path
        if path in self.pages:
            self._send(200, self.pages[path].encode("utf-8"), "text/html; charset=utf-8")
        elif path == "/api/v1/units":
            self._send(200, json.dumps(UNITS).encode("utf-8"), "application/geo+json")
        elif path.startswith("/maps/"):
            target = (ASSETS_DIR / path[len("/maps/"):]).resolve()
            if ASSETS_DIR.resolve() in target.parents and target.is_file():
                types = {".js": "text/javascript", ".css": "text/css", ".png": "image/png",
                         ".svg": "image/svg+xml", ".woff2": "font/woff2"}
                self._send(200, target.read_bytes(), types.get(target.suffix, "application/octet-stream"))
            else:
                self._send(404, b"", "text/plain")
        else:  # tiles and anything else: nothing here (offline intranet without a tile server)
            self._send(404, b"", "text/plain")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"],
        )
        yield instance
        instance.close()


def _open(browser: Any, url: str) -> tuple[Any, list[str], list[str]]:
    page = browser.new_page(viewport={"width": 900, "height": 700})
    outside: list[str] = []
    dialogs: list[str] = []

    def guard(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:  # never leave the machine
            outside.append(route.request.url)
            route.abort()

    def on_dialog(dialog: Any) -> None:  # an alert() would mean injected script ran
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.route("**/*", guard)
    page.on("dialog", on_dialog)
    page.goto(url)
    page.wait_for_function("window.L && window.GeoServiceMaps")
    return page, outside, dialogs


def test_overview_fetches_units_and_shows_names_as_text(server: str, browser: Any) -> None:
    tile = server + "/tiles/{z}/{x}/{y}.png"
    _Handler.pages["/overview.html"] = render_overview_map(units_url="/api/v1/units?level=polsek",
                                                           tile_url=tile)
    page, outside, dialogs = _open(browser, server + "/overview.html")
    page.wait_for_selector("path.leaflet-interactive")
    page.locator("path.leaflet-interactive").first.click()
    popup = page.wait_for_selector(".leaflet-popup-content")
    assert "Polsek " + HOSTILE in popup.inner_text()
    assert page.locator("img[src='x']").count() == 0
    assert outside == [] and dialogs == []
    page.close()


def test_locate_map_in_the_browser(server: str, browser: Any) -> None:
    tile = server + "/tiles/{z}/{x}/{y}.png"
    result = {
        "status": "corrected", "point": {"lat": LAT, "lon": LON}, "original": {"lat": LAT + 0.01, "lon": LON},
        "flags": [{"code": "DIGITS_SWAPPED", "message": HOSTILE}], "uncertainty_m": 300, "match": "inside",
        "jurisdiction": {"polsek": {"code": "51.01.01", "name": HOSTILE}},
        "candidates": [], "stations": [{"code": "S", "name": HOSTILE, "unit_code": "51.01.01",
                                        "lat": LAT - 0.005, "lon": LON + 0.005, "distance_m": 760,
                                        "sample": True}],
    }
    _Handler.pages["/locate.html"] = render_locate_map(result, tile_url=tile, unit_geojson=UNITS["features"][0])
    page, outside, dialogs = _open(browser, server + "/locate.html")
    page.wait_for_selector(".gs-info")
    assert HOSTILE in page.locator(".gs-info").first.inner_text()
    # the corrected point sits where [lat, lon] says: its marker projects inside the unit square
    centre = page.evaluate(
        """() => { const m = document.querySelector('.awesome-marker.awesome-marker-icon-red');
                    const r = m.getBoundingClientRect(); return [r.left + r.width / 2, r.bottom]; }"""
    )
    latlng = page.evaluate(
        """([x, y]) => { const maps = Object.values(window).filter(v => v instanceof L.Map);
                         const c = maps[0].getContainer().getBoundingClientRect();
                         const ll = maps[0].containerPointToLatLng([x - c.left, y - c.top]);
                         return [ll.lat, ll.lng]; }""",
        centre,
    )
    assert latlng[0] == pytest.approx(LAT, abs=0.002) and latlng[1] == pytest.approx(LON, abs=0.002)
    assert page.locator(".leaflet-control-measure").count() == 0  # needs eval: refused by our CSP
    for control in (".leaflet-control-zoom-fullscreen", ".leaflet-control-layers",
                    ".leaflet-control-mouseposition"):
        assert page.locator(control).count() == 1, control
    assert page.locator("img[src='x']").count() == 0
    assert outside == [] and dialogs == []
    page.close()
