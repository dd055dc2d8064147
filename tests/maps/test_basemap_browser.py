"""Issue 17: every map draws the offline reference map when tiles are not configured or do not load.

A real ``geo-service serve`` and Debian's headless Chromium: tiles either point at a closed
loopback port (they fail, as on an intranet without internet) or are switched off
(``GEO_SERVICE_TILE_URL=none``). The console's map must then show land, unit outlines and names
drawn from ``/basemap/...`` tiles; the bytes of a console load are measured and kept small.

Every map is checked in ``id-ID`` (the default language); the console and the incidents map also in
``en-US``, where the page must be English as well (the reference map itself draws unit names only, the
same in both languages, so the other maps are not walked twice).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import chromium_path, need
from tests.live import LiveServer, cli, start_server
from tests.web.test_browser_languages import offending

pytestmark = pytest.mark.browser
CLOSED_TILES = "http://127.0.0.1:9/{z}/{x}/{y}.png"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"]
PASSWORD = "correct-horse-battery"
#: Issue 17's budget for what a console load costs on the Bali set.
BALI_CONSOLE_BUDGET = 1_000_000


@pytest.fixture(scope="module", params=["tiles_fail", "no_tiles"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    need(chromium_path() is not None, "Debian chromium is not installed")
    tiles = CLOSED_TILES if request.param == "tiles_fail" else "none"
    data = tmp_path_factory.mktemp(f"basemap-{request.param}")
    srv = start_server(data, extra_env={"GEO_SERVICE_TILE_URL": tiles, "GEO_SERVICE_SECURE_COOKIES": "false"})
    cli(srv.env, "user", "create", "--username", "dispatcher1", "--role", "dispatcher", "--password-stdin",
        stdin=PASSWORD + "\n")
    cli(srv.env, "user", "create", "--username", "admin1", "--role", "admin", "--password-stdin",
        stdin=PASSWORD + "\n")
    cli(srv.env, "demo", "seed", "--count", "20")
    srv.tokens["mode"] = request.param
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need(chromium_path() is not None, "Debian chromium is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "playwright (python) is not installed")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


class Traffic:
    """Transfer sizes of every finished request and the reference tiles' labels."""

    def __init__(self, page: Any, base: str) -> None:
        self.transfer = 0
        self.urls: list[str] = []
        self.labels: set[str] = set()
        self.base_host = urlsplit(base).netloc
        page.on("requestfinished", self._finished)

    def _finished(self, req: Any) -> None:
        self.urls.append(req.url)
        sizes = req.sizes()
        self.transfer += int(sizes.get("responseBodySize", 0)) + int(sizes.get("responseHeadersSize", 0))
        if "/basemap/" in req.url:
            resp = req.response()
            if resp is not None and resp.status == 200:
                body = resp.body()
                tile = json.loads(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)
                self.labels.update(label[2] for label in tile["labels"])

    def foreign(self) -> list[str]:
        return [u for u in self.urls if urlsplit(u).scheme in ("http", "https")
                and urlsplit(u).netloc not in (self.base_host, "127.0.0.1:9")]


def _login(page: Any, base: str, user: str = "dispatcher1") -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_load_state("networkidle")


def _drawn_pixels(frame: Any) -> int:
    """Pixels on the reference map's canvases that are not transparent."""
    return int(frame.evaluate("""() => {
        let n = 0;
        for (const c of document.querySelectorAll('.gs-reference-map canvas')) {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < d.length; i += 64) { if (d[i] > 0) n++; }
        }
        return n;
    }"""))


def _check_language(page: Any, frame: Any, locale: str) -> None:
    """The page and its map speak the browser's language (no word of the other one, no enum code)."""
    lang = locale[:2]
    assert page.get_attribute("html", "lang") == lang
    text = page.inner_text("body") + "\n" + frame.inner_text("body")
    assert not offending(text, lang), offending(text, lang)


def _suffix(locale: str) -> str:
    """Screenshot name suffix: none for the default language (the names of earlier runs), ``-en`` else."""
    return "" if locale == "id-ID" else "-" + locale[:2]


def _wait_reference(page: Any, selector: str = "#map") -> Any:
    frame = page.wait_for_selector(selector).content_frame()
    assert frame is not None
    frame.wait_for_selector("[data-basemap=reference]", timeout=20000)
    frame.wait_for_selector(".gs-reference-map canvas.leaflet-tile-loaded", timeout=20000)
    page.wait_for_load_state("networkidle")
    return frame


@pytest.mark.parametrize("locale", ["id-ID", "en-US"])
def test_console_draws_outlines_and_names_without_tiles(server: LiveServer, browser: Any,
                                                        artifacts_dir: Path, locale: str) -> None:
    mode = server.tokens["mode"] + _suffix(locale)
    page = browser.new_page(viewport={"width": 1400, "height": 900}, locale=locale)
    traffic = Traffic(page, server.base)
    _login(page, server.base)
    frame = _wait_reference(page)
    assert _drawn_pixels(frame) > 1000
    assert any(name.startswith("Polres") or name.startswith("Polsek") for name in traffic.labels), traffic.labels
    _check_language(page, frame, locale)
    page.screenshot(path=str(artifacts_dir / f"basemap-console-{mode}.png"))
    first_load = traffic.transfer

    page.fill("#q", "-8.726433, 115.177805")
    page.press("#q", "Enter")
    page.wait_for_selector("#summary")
    frame = _wait_reference(page)
    assert _drawn_pixels(frame) > 1000
    assert "Polsek Kuta" in traffic.labels
    _check_language(page, frame, locale)
    page.screenshot(path=str(artifacts_dir / f"basemap-locate-{mode}.png"))
    (artifacts_dir / f"basemap-weight-{mode}.json").write_text(json.dumps(
        {"console_first_load_bytes": first_load, "with_one_lookup_bytes": traffic.transfer}))
    assert first_load < BALI_CONSOLE_BUDGET, first_load
    assert not traffic.foreign(), traffic.foreign()
    page.close()


@pytest.mark.parametrize(("name", "path", "frame", "locale"), [
    ("incidents", "/incidents", "#incidents-map", "id-ID"),
    ("recap", "/reports/weekly", "#recap-map", "id-ID"),
    ("calls", "/reports/calls", "#calls-map", "id-ID"),
    ("calls-response", "/reports/calls", "#response-map", "id-ID"),
    ("officer", None, "#map", "id-ID"),
    ("incidents", "/incidents", "#incidents-map", "en-US"),
], ids=["incidents", "recap", "calls", "calls-response", "officer", "incidents-en"])
def test_every_map_draws_the_reference_map(server: LiveServer, browser: Any, artifacts_dir: Path,
                                           name: str, path: str | None, frame: str, locale: str) -> None:
    if path is None:  # the officer's page opens from a signed link, without a login
        status, link = server.json("POST", "/api/v1/officer-links", {"text": "-8.6705, 115.2126"}, role="dispatcher")
        assert status == 201, link
        path = link["url"]
    page = browser.new_page(viewport={"width": 1200, "height": 900}, locale=locale)
    traffic = Traffic(page, server.base)
    if name != "officer":
        _login(page, server.base, "admin1")
    page.goto(server.base + path)
    map_frame = _wait_reference(page, frame)
    assert _drawn_pixels(map_frame) > 1000
    assert traffic.labels, "no unit names were drawn"
    _check_language(page, map_frame, locale)
    page.screenshot(path=str(artifacts_dir / f"basemap-{name}-{server.tokens['mode']}{_suffix(locale)}.png"))
    assert not traffic.foreign(), traffic.foreign()
    page.close()


def test_admin_problem_and_diff_maps_draw_the_reference_map(server: LiveServer, browser: Any,
                                                            artifacts_dir: Path) -> None:
    """The admin's check report of an uploaded draft: its problems map and its diff map (against the
    published set) both show outlines and names with tiles failing or off."""
    data = (Path(__file__).resolve().parents[2] / "boundaries" / "bali_kecamatan.geojson").read_bytes()
    status, body = server.upload("/api/v1/boundary-sets", {"file": ("bali_kecamatan.geojson", data)},
                                 {"level": "polsek", "name": "reference map draft"})
    assert status == 201, body
    page = browser.new_page(viewport={"width": 1300, "height": 1000}, locale="id-ID")
    traffic = Traffic(page, server.base)
    _login(page, server.base, "admin1")
    page.goto(f"{server.base}/admin/boundaries/{body['id']}")
    assert page.locator("iframe.map").count() == 2, "the draft page shows a problems map and a diff map"
    for nth in (0, 1):
        frame = _wait_reference(page, f"iframe.map >> nth={nth}")
        assert _drawn_pixels(frame) > 1000, f"map {nth} drew nothing"
    assert traffic.labels, "no unit names were drawn"
    page.screenshot(path=str(artifacts_dir / f"basemap-admin-set-{server.tokens['mode']}.png"), full_page=True)
    assert not traffic.foreign(), traffic.foreign()
    page.close()
