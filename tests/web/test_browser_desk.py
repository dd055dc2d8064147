"""Issue 17 in a real headless Chromium against a real `geo-service serve`: the console's desk used with the
keyboard only (locate, copy the radio line, the last ten lookups, re-run one), and the recap's three SVG
pictures in Indonesian. Screenshots go to test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import chromium_path, need
from tests.live import LiveServer, cli, start_server
from tests.web.test_browser_pages import CHROMIUM_ARGS, HOSTILE, TILE_URL, Watch

pytestmark = pytest.mark.browser
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    need(chromium_path() is not None, "Debian chromium is not installed")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        need(False, "playwright (python) is not installed")
    srv = start_server(tmp_path_factory.mktemp("desk-browser") / "data",
                       extra_env={"GEO_SERVICE_TILE_URL": TILE_URL})
    for user, role in (("dispatcher1", "dispatcher"), ("admin1", "admin")):
        cli(srv.env, "user", "create", "--username", user, "--role", role, "--password-stdin", stdin=PASSWORD + "\n")
    cli(srv.env, "demo", "seed", "--count", "40")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser(server: LiveServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


def _login_by_keyboard(page: Any, base: str, user: str) -> None:
    page.goto(base + "/login")
    page.focus("input[name=username]")
    page.keyboard.insert_text(user)
    page.keyboard.press("Tab")
    page.keyboard.insert_text(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url, page.url


def _active(page: Any) -> dict[str, str]:
    return page.evaluate("""() => { const a = document.activeElement;
        return {id: a.id || '', cls: a.className || '', tag: a.tagName, text: (a.textContent || '').trim(),
                outline: getComputedStyle(a).outlineStyle}; }""")


def _lookups(page: Any) -> list[str]:
    return [b.inner_text() for b in page.query_selector_all("#last-lookups button.lookup")]


def _locate(page: Any, text: str) -> None:
    page.keyboard.press("Alt+KeyI")  # back to the input, its text selected
    assert _active(page)["id"] == "q"
    page.keyboard.insert_text(text)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("#result")


def test_console_desk_by_keyboard_only(server: LiveServer, browser: Any, artifacts_dir: Path) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 950}, locale="id-ID",
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    watch = Watch(page, server.base)
    csp: list[str] = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    _login_by_keyboard(page, server.base, "dispatcher1")
    assert _active(page)["id"] == "q"  # the input has the focus on load
    assert page.is_visible("#no-lookups") and not _lookups(page)
    shortcuts = page.inner_text("#shortcuts")
    assert "Alt" in shortcuts and "salin kalimat radio" in shortcuts and "ke pencarian terakhir" in shortcuts

    page.keyboard.insert_text("8.358, 114.62")  # the minus of a southern latitude dropped
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("#radio-line")
    assert _active(page)["id"] == "q"
    line = page.inner_text("#radio-line")
    assert line.startswith("Polsek Negara · -8.35800, 114.62000 · ±") and line.endswith("dikoreksi: tanda lintang")

    page.keyboard.press("Alt+KeyC")  # copies the radio line
    page.wait_for_function("() => document.getElementById('radio-copy').textContent === '\u2713'")
    assert page.evaluate("() => navigator.clipboard.readText()") == line
    assert _active(page)["id"] == "radio-copy"
    assert page.is_hidden("#no-lookups")
    assert _lookups(page) == [f"8.358, 114.62 — {line}"]

    _locate(page, "-8.65 115.22")
    second = page.inner_text("#radio-line")
    assert "Polsek Negara" not in second
    items = _lookups(page)
    assert len(items) == 2 and items[0].startswith("-8.65 115.22 — ") and items[1].startswith("8.358, 114.62")

    page.keyboard.press("Alt+KeyL")  # to the last lookups
    assert "lookup" in _active(page)["cls"] and _active(page)["text"].startswith("-8.65 115.22")
    assert _active(page)["outline"] != "none"  # the focus is visible
    page.keyboard.press("ArrowDown")
    assert _active(page)["text"].startswith("8.358, 114.62")
    page.screenshot(path=str(artifacts_dir / "console-desk-last-lookups.png"))
    with page.expect_navigation():
        page.keyboard.press("Enter")  # re-runs that lookup
    page.wait_for_selector("#radio-line")
    assert page.inner_text("#radio-line") == line
    assert page.input_value("#q") == "8.358, 114.62"
    items = _lookups(page)
    assert len(items) == 2 and items[0].startswith("8.358, 114.62")  # moved to the top, not doubled

    # Every console action is reachable with Tab: the locate button, the copy button, the lookups.
    page.focus("#q")
    seen = []
    for _ in range(60):
        page.keyboard.press("Tab")
        a = _active(page)
        if a["id"] == "q":
            break  # once round the page
        seen.append(a["id"] or a["cls"] or a["tag"])
        if a["tag"] == "BUTTON":
            assert a["outline"] != "none", a
    assert seen[:5] == ["hint", "BUTTON", "radio-copy", "lookup", "lookup"], seen  # locate, copy, the lookups
    assert "send-officer" in seen
    stored = page.evaluate("() => Object.keys(localStorage)")
    assert stored == ["geo_service.desk.lookups.user:dispatcher1"]  # kept per user, in the browser only

    # A hostile text stays text in the list (textContent, never HTML).
    page.keyboard.press("Alt+KeyI")
    page.keyboard.insert_text(HOSTILE)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("#last-lookups button.lookup")
    assert _lookups(page)[0].startswith(HOSTILE)
    assert not page.query_selector_all("#last-lookups img")

    # Ten at most.
    for i in range(11):
        _locate(page, f"-8.{600 + i} 115.2{i % 10}")
    items = _lookups(page)
    assert len(items) == 10 and items[0].startswith("-8.610 115.20")
    page.screenshot(path=str(artifacts_dir / "console-desk.png"), full_page=True)
    assert not watch.foreign(), watch.foreign()
    assert not watch.dialogs and not csp, csp
    context.close()


def test_recap_charts_in_indonesian(server: LiveServer, browser: Any, artifacts_dir: Path) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="id-ID")
    page = context.new_page()
    watch = Watch(page, server.base)
    csp: list[str] = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    _login_by_keyboard(page, server.base, "admin1")
    page.goto(server.base + "/reports/weekly?unit=51")
    titles = {}
    for chart_id in ("chart-by-unit", "chart-trend", "chart-first-action"):
        svg = page.wait_for_selector(f"svg#{chart_id}")
        assert svg.is_visible()
        titles[chart_id] = page.text_content(f"svg#{chart_id} > title")
        box = svg.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 80
    assert titles == {"chart-by-unit": "Status per satuan", "chart-trend": "Kejadian per minggu (8 minggu terakhir)",
                      "chart-first-action": "Waktu sampai tindakan pertama"}
    assert page.get_attribute("svg#chart-by-unit", "aria-labelledby") == "chart-by-unit-title"
    legend = page.text_content("svg#chart-by-unit g.legend") or ""
    for word in ("Belum Ditangani", "Dalam Proses", "Selesai", "Dibatalkan"):
        assert word in legend
    assert len(page.query_selector_all("svg#chart-trend g.bar")) == 8
    page.locator("#charts").screenshot(path=str(artifacts_dir / "recap-charts.png"))
    page.emulate_media(media="print")
    assert page.is_visible("svg#chart-first-action")  # printed too
    page.screenshot(path=str(artifacts_dir / "recap-charts-print.png"), full_page=True)
    page.emulate_media(media="screen")
    page.goto(server.base + "/incidents?from=2000-01-01")
    assert page.wait_for_selector("svg#chart-by-unit").is_visible()
    page.screenshot(path=str(artifacts_dir / "incidents-charts.png"), full_page=True)
    assert not watch.foreign(), watch.foreign()
    assert not csp, csp
    context.close()
