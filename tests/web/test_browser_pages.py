"""The pages in a real headless Chromium (Debian's), against a real `geo-service serve`.

Tiles point at a closed local port, so no request leaves 127.0.0.1 and the maps must show
their polygons and points on a blank background. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import IN_CI, chromium_path, need

pytestmark = pytest.mark.browser
TILE_URL = "http://127.0.0.1:9/{z}/{x}/{y}.png"
HOSTILE = "<img src=x onerror=alert(1)>"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    res = subprocess.run([sys.executable, "-m", "geo_service.cli", *args], env=env, input=stdin,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    need(chromium_path() is not None, "Debian chromium is not installed")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        need(False, "playwright (python) is not installed")
    data = tmp_path_factory.mktemp("browser")
    port = _free_port()
    # GEO_SERVICE_BUNDLED_SET=admin: the hostile upload below is an administrative kecamatan file with regency
    # parents, which matches the administrative bundled set (the Polri structure is tested in test_structure.py).
    env = {**os.environ, "GEO_SERVICE_DATA_DIR": str(data), "GEO_SERVICE_TILE_URL": TILE_URL,
           "GEO_SERVICE_LOG_LEVEL": "WARNING", "GEO_SERVICE_BUNDLED_SET": "admin"}
    _cli(["db", "upgrade"], env)
    for user, role in (("dispatcher1", "dispatcher"), ("admin1", "admin")):
        _cli(["user", "create", "--username", user, "--role", role, "--password-stdin"], env, "correct-horse-battery\n")
    admin_token = _cli(["token", "create", "--role", "admin", "--name", "browser-admin"], env).strip().splitlines()[-1]
    _cli(["demo", "seed", "--count", "40"], env)
    proc = subprocess.Popen([sys.executable, "-m", "geo_service.cli", "serve", "--port", str(port), "--workers", "2"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("geo-service serve did not come up: " + (proc.stdout.read().decode() if proc.stdout else ""))
    yield {"base": base, "env": env, "admin_token": admin_token, "port": port}
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(server: dict[str, Any]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


class Watch:
    """Records every request a page makes and every dialog it opens."""

    def __init__(self, page: Any, base: str) -> None:
        self.hosts: list[str] = []
        self.dialogs: list[str] = []
        self.bytes = 0
        self.base_host = urlsplit(base).netloc
        page.on("request", lambda req: self.hosts.append(req.url))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

        def _size(resp: Any) -> None:
            try:
                self.bytes += len(resp.body())
            except Exception:  # noqa: BLE001 - redirects and aborted requests have no body
                pass

        page.on("response", _size)

    def foreign(self) -> list[str]:
        tile_host = urlsplit(TILE_URL.replace("{z}", "0").replace("{x}", "0").replace("{y}", "0")).netloc
        out = []
        for url in self.hosts:
            parts = urlsplit(url)
            if parts.scheme in ("data", "about", "blob"):
                continue
            if parts.netloc not in (self.base_host, tile_host):
                out.append(url)
        return out


def _login(page: Any, base: str, user: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", "correct-horse-battery")
    page.press("input[name=password]", "Enter")
    page.wait_for_load_state("networkidle")


def _map_frame(page: Any, selector: str = "#map") -> Any:
    handle = page.wait_for_selector(selector)
    frame = handle.content_frame()
    assert frame is not None
    return frame


def test_console_locates_dms_with_keyboard_only(server: dict[str, Any], browser: Any, artifacts_dir: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    watch = Watch(page, server["base"])
    _login(page, server["base"], "dispatcher1")
    # Before any input: the published units are drawn (fetched from our API, not inlined).
    frame = _map_frame(page)
    frame.wait_for_selector("path.leaflet-interactive", timeout=15000)
    assert len(frame.query_selector_all("path.leaflet-interactive")) >= 57
    page.screenshot(path=str(artifacts_dir / "console-empty.png"))
    weight = watch.bytes
    html_size = len(page.content().encode())
    (artifacts_dir / "console-weight.json").write_text(json.dumps({"total_bytes": weight, "html_bytes": html_size}))
    assert html_size < 60_000, html_size  # the Bali polygons are not inlined in the page
    assert weight < 3_000_000, weight

    page.focus("#q")
    page.keyboard.insert_text("8°21'29.5\" LS 114°37'11.3\" BT")
    page.keyboard.press("Enter")
    page.wait_for_selector("#summary")
    summary = page.inner_text("#summary")
    assert "Polsek Negara" in summary and "Polres Jembrana" in summary
    frame = _map_frame(page)
    frame.wait_for_selector(".leaflet-marker-icon, path.leaflet-interactive", timeout=15000)
    assert frame.query_selector_all("path.leaflet-interactive")  # unit polygon and uncertainty circle
    page.screenshot(path=str(artifacts_dir / "console-dms.png"))
    assert not watch.foreign(), watch.foreign()
    assert not watch.dialogs
    page.close()


def test_console_shows_both_points_for_a_corrected_input(server: dict[str, Any], browser: Any,
                                                          artifacts_dir: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    watch = Watch(page, server["base"])
    _login(page, server["base"], "dispatcher1")
    page.fill("#q", "8.358, 114.62")  # the minus of a southern latitude dropped
    page.press("#q", "Enter")
    page.wait_for_selector("#result")
    assert page.get_attribute("#result", "data-status") == "corrected"
    flags = page.inner_text("ul.flags")
    assert "PRESUMED_NEGATED_LATITUDE" in flags
    assert "Polsek Negara" in page.inner_text("#summary")
    frame = _map_frame(page)
    frame.wait_for_selector("path.leaflet-interactive", timeout=15000)
    text = frame.content()
    assert "8.358" in text and "-8.358" in text  # the original and the corrected point are both on the map
    page.screenshot(path=str(artifacts_dir / "console-corrected.png"))
    assert not watch.foreign(), watch.foreign()
    page.close()


def test_officer_page_on_a_phone(server: dict[str, Any], browser: Any, artifacts_dir: Path) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    _login(page, server["base"], "dispatcher1")
    page.fill("#q", "-8.358 114.62")
    page.press("#q", "Enter")
    page.wait_for_selector("#send-officer")
    page.click("#send-officer")
    page.wait_for_selector("#officer-url")
    url = page.get_attribute("#officer-url", "href")
    assert url and url.startswith("/p/")
    page.close()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    officer = phone.new_page()
    watch = Watch(officer, server["base"])
    resp = officer.goto(server["base"] + url)
    assert resp is not None and resp.status == 200
    assert "Polsek Negara" in officer.inner_text("#unit")
    geo = officer.get_attribute("#nav-geo", "href")
    gmaps = officer.get_attribute("#nav-gmaps", "href")
    assert geo.startswith("geo:-8.358000,114.620000")
    assert "query=-8.358000,114.620000" in gmaps
    frame = _map_frame(officer)
    frame.wait_for_selector(".leaflet-marker-icon, path.leaflet-interactive", timeout=15000)
    # Nothing wider than the phone.
    width = officer.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    officer.screenshot(path=str(artifacts_dir / "officer-phone.png"), full_page=True)
    assert not watch.foreign(), watch.foreign()

    # A tampered token is refused with a page that says so.
    tampered = url[:-4] + ("AAAA" if not url.endswith("AAAA") else "BBBB")
    resp = officer.goto(server["base"] + tampered)
    assert resp is not None and resp.status == 403
    assert "tidak sah" in officer.inner_text("h1").lower() or "invalid" in officer.inner_text("h1").lower()
    officer.screenshot(path=str(artifacts_dir / "officer-tampered.png"))
    phone.close()


def _upload_hostile_set(server: dict[str, Any]) -> int:
    """Upload a polsek file whose Negara unit is named with markup, via the API, and publish it."""
    data = json.loads((Path(__file__).resolve().parents[2] / "boundaries" / "bali_kecamatan.geojson").read_text())
    for feat in data["features"]:
        if feat["properties"]["kode"] == "51.01.01":
            feat["properties"]["nama"] = HOSTILE
    body, ctype = _multipart({"level": "polsek"}, {"file": ("hostile.geojson", json.dumps(data).encode())})
    req = urllib.request.Request(server["base"] + "/api/v1/boundary-sets", data=body, method="POST",
                                 headers={"Content-Type": ctype, "Authorization": f"Bearer {server['admin_token']}"})
    with urllib.request.urlopen(req, timeout=120) as r:
        set_id = json.loads(r.read())["id"]
    req = urllib.request.Request(server["base"] + f"/api/v1/boundary-sets/{set_id}/publish", data=b"", method="POST",
                                 headers={"Authorization": f"Bearer {server['admin_token']}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        assert r.status == 200
    return set_id


def _multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = "----geo-service-test"
    buf = io.BytesIO()
    for k, v in fields.items():
        buf.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    for k, (fname, content) in files.items():
        buf.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{fname}"\r\n'
                  f"Content-Type: application/octet-stream\r\n\r\n".encode())
        buf.write(content + b"\r\n")
    buf.write(f"--{boundary}--\r\n".encode())
    return buf.getvalue(), f"multipart/form-data; boundary={boundary}"


def test_hostile_boundary_name_is_text_everywhere(server: dict[str, Any], browser: Any, artifacts_dir: Path) -> None:
    set_id = _upload_hostile_set(server)
    time.sleep(2.5)  # every worker polls the published generation at most every 2 s
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    watch = Watch(page, server["base"])
    _login(page, server["base"], "admin1")
    # Admin report page: the name in the diff table is text.
    page.goto(server["base"] + f"/admin/boundaries/{set_id}")
    assert HOSTILE in page.inner_text("#diff")
    assert page.query_selector("img[src=x]") is None
    page.screenshot(path=str(artifacts_dir / "admin-set.png"), full_page=True)
    # Console: the located unit carries the hostile name, shown as text in the panel and on the map.
    page.goto(server["base"] + "/")
    page.fill("#q", "-8.358 114.62")
    page.press("#q", "Enter")
    page.wait_for_selector("#summary")
    assert HOSTILE in page.inner_text("#summary")
    frame = _map_frame(page)
    frame.wait_for_selector("path.leaflet-interactive", timeout=15000)
    assert frame.query_selector("img[src=x]") is None
    assert HOSTILE in frame.inner_text("body")
    page.screenshot(path=str(artifacts_dir / "console-hostile.png"))
    # Officer page for that point.
    page.click("#send-officer")
    page.wait_for_selector("#officer-url")
    page.goto(server["base"] + page.get_attribute("#officer-url", "href"))
    assert HOSTILE in page.inner_text("#unit")
    assert page.query_selector("img[src=x]") is None
    time.sleep(0.5)
    assert not watch.dialogs, watch.dialogs
    assert not watch.foreign(), watch.foreign()
    # Roll back to the bundled set so the other tests see the real names.
    req = urllib.request.Request(server["base"] + "/api/v1/boundary-sets/1/publish", data=b"", method="POST",
                                 headers={"Authorization": f"Bearer {server['admin_token']}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        assert r.status == 200
    page.close()


def test_every_screen_renders_offline(server: dict[str, Any], browser: Any, artifacts_dir: Path) -> None:
    """Recap, incidents, admin lists and the English console: drawn, local-only, screenshotted."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    watch = Watch(page, server["base"])
    _login(page, server["base"], "admin1")
    screens = {
        "recap": ("/reports/weekly", "#recap-map"),
        "incidents": ("/incidents?heat=1", "#incidents-map"),
        "admin-boundaries": ("/admin/boundaries", None),
        "admin-stations": ("/admin/stations", None),
        "console-en": ("/?lang=en", "#map"),
    }
    for name, (path, frame_sel) in screens.items():
        resp = page.goto(server["base"] + path)
        assert resp is not None and resp.status == 200, (path, resp.status if resp else None)
        if frame_sel:
            frame = _map_frame(page, frame_sel)
            frame.wait_for_selector(".leaflet-container", timeout=15000)
            if name in ("recap", "incidents"):
                frame.wait_for_selector(".marker-cluster, .leaflet-marker-icon, path.leaflet-interactive, canvas",
                                        timeout=15000)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(artifacts_dir / f"{name}.png"), full_page=True)
    assert int(page.evaluate("document.querySelectorAll('a').length")) > 0
    assert "Console" in page.inner_text("header")  # English chosen
    assert not watch.foreign(), watch.foreign()
    assert not watch.dialogs
    page.close()


def test_in_ci_the_browser_is_required() -> None:
    if IN_CI:
        assert chromium_path() is not None
    assert re.match(r".+", TILE_URL)
