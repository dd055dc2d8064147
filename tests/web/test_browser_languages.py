"""One language per screen (issue 17), in a real headless Chromium against a real `geo-service serve`.

The browser's own locale chooses the language (id-ID -> Bahasa Indonesia, en-US -> English,
through Accept-Language). Every page is walked: login, the console with its place suggestions open and
with a located point (and its map popup), incidents, one incident, the weekly recap, the Anev 110
dashboard, the admin boundary and station pages, the officer page and its error page, the caller's
location page /l/<token> and the error page of an unknown address. A page fails when it shows a word of the other
language, an enum code as it is stored (``corrected``, ``at_sea``, ``belum_ditangani`` ...), a
doubled "X / Y" label or an ISO 8601 date (``2026-11-30``: dates and times are written as people read
them; ISO 8601 stays in exports and the API). Screenshots of every page in both languages go to test-artifacts/.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.web.test_browser_pages import CHROMIUM_ARGS, _cli, _login, _map_frame, browser, server  # noqa: F401
from tests.web.test_browser_places import _with_places  # noqa: F401 - gazetteer loaded: place suggestions

pytestmark = pytest.mark.browser

#: Words an Indonesian screen must not show: enum codes and English labels.
NOT_ON_INDONESIAN = [
    "inside", "corrected", "suspect", "border", "at_sea", "nearest", "invalid", "published", "draft", "archived",
    "belum_ditangani", "dalam_proses", "dibatalkan", "geometry_changed", "call_110", "created", "reassign",
    "error", "warning", "polsek", "polres", "Not yet handled", "In progress", "Done", "Cancelled", "Accident",
    "Theft", "Other", "Heat map", "Category", "Channel", "Description", "Save", "History", "Note", "Time",
    "From", "Print", "Units below", "Match", "Reasons", "Uncertainty", "Legend", "Log out", "Log in",
    "Console", "Incidents", "Weekly recap", "Boundaries", "Upload", "Level", "Week", "Copy", "Distance",
    "Confidence", "hours ago", "days ago", "minutes ago", "Reported", "Invalid link", "Back", "Open in",
]
#: Words an English screen must not show: enum codes and Indonesian labels.
NOT_ON_ENGLISH = [
    "at_sea", "belum_ditangani", "dalam_proses", "geometry_changed", "call_110", "Kecocokan", "dikoreksi",
    "meragukan", "Belum Ditangani", "Dalam Proses", "Selesai", "Dibatalkan", "Kategori", "Kecelakaan", "Pencurian",
    "Kebakaran", "Lainnya", "Saluran", "Keterangan", "Simpan", "Riwayat", "Catatan", "Waktu", "Dari", "Sampai",
    "Cetak", "Peta kepadatan", "Keluar", "Masuk", "Konsol", "Kejadian", "Rekap", "Batas wilayah", "Unggah",
    "Tingkat", "Alasan", "Ketidakpastian", "Keyakinan", "terbit", "draf", "arsip", "Galat", "Peringatan",
    "jam lalu", "hari lalu", "menit lalu", "Tautan", "Kembali", "Salin", "Jarak", "Dilaporkan", "Koordinat",
    "Titik", "Kirim", "Buka di", "LS", "BT",
]
DOUBLED = re.compile(r"[^\W\d_]{2,} / [^\W\d_]{2,}")
#: An ISO 8601 calendar date, with its time when there is one (2026-11-30, 2026-11-30T20:08).
ISO_DATE = re.compile(r"(?<![\w-])\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?(?![\w-])"
                      r"|(?<![\w-])\d{4}-W\d{2}(?![\w-])")  # and an ISO week label (2026-W48)
#: "X / Y" written in one language on purpose (the labels of two figures shown as "a / b"), not a doubled label.
ONE_LANGUAGE_PAIRS = {"id": {"Iseng / diam"}, "en": {"Prank / silent"}}
LOCALES = {"id": "id-ID", "en": "en-US"}
#: Called on every page of the walk, after it has loaded and before its text is read: (page, name).
PageCheck = Callable[[Any, str], None]


def dispatcher_post(server: dict[str, Any], path: str, body: dict[str, Any]) -> Any:  # noqa: F811
    """POST ``body`` to the API as a dispatcher (a bearer token made once per server); the JSON answer."""
    if "dispatcher_token" not in server:
        server["dispatcher_token"] = _cli(["token", "create", "--role", "dispatcher", "--name", "browser-dispatcher"],
                                          server["env"]).strip().splitlines()[-1]
    req = urllib.request.Request(server["base"] + path, method="POST", data=json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {server['dispatcher_token']}",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=20) as resp:
        return json.loads(resp.read())


def caller_link(server: dict[str, Any], lang: str) -> str:  # noqa: F811
    """A caller's location page /l/<token> in ``lang``, asked for by a dispatcher through the API."""
    return str(dispatcher_post(server, "/api/v1/location-requests", {"lang": lang})["url"])


def record_a_call(server: dict[str, Any]) -> None:  # noqa: F811
    """One answered 110 call two minutes ago, so the Anev 110 dashboard's week has a trend row."""
    now = datetime.now(UTC).replace(microsecond=0)
    dispatcher_post(server, "/api/v1/calls", {
        "call_id": "lang-walk-1", "started_at": (now - timedelta(seconds=120)).isoformat(),
        "answered_at": (now - timedelta(seconds=114)).isoformat(), "ended_at": (now - timedelta(seconds=60)).isoformat(),
        "answered_by": "51.71", "routed_to": ["51.71"], "outcome": "information"})


def offending(text: str, lang: str) -> list[str]:
    """The forbidden words (whole words, case-sensitive), doubled labels and ISO dates in a screen's text."""
    words = NOT_ON_INDONESIAN if lang == "id" else NOT_ON_ENGLISH
    found = [w for w in words if re.search(r"(?<![\w-])" + re.escape(w) + r"(?![\w-])", text)]
    return (found + [pair for pair in DOUBLED.findall(text) if pair not in ONE_LANGUAGE_PAIRS[lang]]
            + ISO_DATE.findall(text))


def test_the_checker_catches_mixed_screens() -> None:
    assert offending("Kecocokan: inside", "id") == ["inside"]
    assert offending("Status: corrected", "id") == ["corrected"]
    assert offending("Kategori / Category", "id") == ["Category", "Kategori / Category"]
    assert offending("Dari / From", "en") == ["Dari", "Dari / From"]
    assert offending("Rekap: Polres Badung · Minggu 2026-W48", "id") == ["2026-W48"]
    assert offending("Rekap: Polres Badung · Minggu 48 (23 Nov 2026 – 29 Nov 2026)", "id") == []
    assert offending("Status: dikoreksi · Kecocokan: di dalam wilayah · 3 jam lalu", "id") == []
    assert offending("Status: corrected · Match: inside the area · 3 hours ago", "en") == []
    assert offending("Iseng / diam: 2 % / 5 %", "id") == [] and offending("Prank / silent", "id") == ["Prank / silent"]
    assert offending("Anev 110 Polda Bali 2026-11-01 – 2026-11-30", "id") == ["2026-11-01", "2026-11-30"]
    assert offending("Dilaporkan 2026-11-30T20:08", "id") == ["2026-11-30T20:08"]
    assert offending("1 Nov 2026 – 30 Nov 2026 (WITA) · 17 Agu 2026 10.00 WIB · +62 812-3456-7890", "id") == []


def screen_text(page: Any, frames: list[str]) -> str:
    """What a person reads: the page (without free text typed by callers) and its map frames."""
    page.evaluate("document.querySelectorAll('.description').forEach(e => e.remove())")
    parts = [page.inner_text("body"), page.title()]
    for selector in frames:
        frame = _map_frame(page, selector)
        frame.wait_for_selector(".leaflet-container", timeout=15000)
        parts.append(frame.inner_text("body"))
    return "\n".join(parts)


def walk(context: Any, server: dict[str, Any], lang: str, artifacts: Path,  # noqa: F811
         check: PageCheck | None = None) -> dict[str, str]:
    """Visit every page in ``lang``; returns the text of each, calling ``check`` on each first."""
    base = server["base"]
    texts: dict[str, str] = {}
    page = context.new_page()

    def visit(name: str, path: str | None, frames: list[str], status: int = 200) -> None:
        if path is not None:
            resp = page.goto(base + path)
            assert resp is not None and resp.status == status, (name, resp.status if resp else None)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(artifacts / f"lang-{lang}-{name}.png"), full_page=True)
        if check is not None:
            check(page, name)
        texts[name] = screen_text(page, frames)

    visit("login", "/login", [])
    _login(page, base, "admin1")
    page.goto(base + "/")
    page.focus("#q")
    page.keyboard.type("baler bale agu", delay=20)  # a place name not finished: the suggestion list opens
    page.wait_for_selector("#place-suggestions li", timeout=30000)
    visit("console-places", None, [])
    page.goto(base + "/")
    page.fill("#q", "8.358, 114.62")  # a corrected point: status, match, reasons, candidates, stations
    page.press("#q", "Enter")
    page.wait_for_selector("#result")
    frame = _map_frame(page)
    frame.wait_for_selector(".awesome-marker-icon-red", timeout=15000)
    frame.click(".awesome-marker-icon-red")  # the incident point's popup: status and match in words
    frame.wait_for_selector(".leaflet-popup-content")
    popup = frame.inner_text(".leaflet-popup-content")
    visit("console", None, ["#map"])
    texts["console"] += "\n" + popup
    page.click("#send-officer")
    page.wait_for_selector("#officer-url")
    officer_url = page.get_attribute("#officer-url", "href")
    texts["console-link"] = page.inner_text("p.officer-link")
    visit("incidents", "/incidents?heat=1", ["#incidents-map"])
    visit("incident", "/incidents/1", [])
    visit("recap", "/reports/weekly", ["#recap-map"])
    record_a_call(server)
    visit("calls", "/reports/calls", [])
    visit("admin-boundaries", "/admin/boundaries", [])
    visit("admin-boundary-set", "/admin/boundaries/1", ["iframe.map"])
    visit("admin-stations", "/admin/stations", [])
    visit("officer", officer_url, ["#map"])
    visit("officer-invalid", officer_url[:-4] + ("AAAA" if not officer_url.endswith("AAAA") else "BBBB"), [],
          status=403)
    visit("caller", caller_link(server, lang), [])
    visit("not-found", "/no-such-page", [], status=404)
    page.close()
    return texts


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_screen_speaks_one_language(server: dict[str, Any], browser: Any,  # noqa: F811
                                          artifacts_dir: Path, lang: str) -> None:
    context = browser.new_context(locale=LOCALES[lang], viewport={"width": 1400, "height": 1000})
    texts = walk(context, server, lang, artifacts_dir)
    context.close()
    problems = {name: offending(text, lang) for name, text in texts.items()}
    assert not {k: v for k, v in problems.items() if v}, problems
    # The words are really there, in the right language (not an empty page that passes trivially).
    expect = {"id": {"console": ["Hasil", "dikoreksi", "Alasan", "di dalam wilayah", "LS"],
                     "incidents": ["Kategori", "WITA", "lalu"], "recap": ["Rekap mingguan", "WITA"],
                     "console-link": ["berlaku sampai", "WITA"], "officer": ["Buka di", "Alasan"],
                     "officer-invalid": ["Tautan tidak sah"], "admin-boundaries": ["terbit", "WITA"],
                     "login": ["Masuk", "Kata sandi"]},
              "en": {"console": ["Result", "corrected", "Reasons", "inside the area", '" S 1'],
                     "incidents": ["Category", "WITA", "ago"], "recap": ["Weekly recap", "WITA"],
                     "console-link": ["valid until", "WITA"], "officer": ["Open in", "Reasons"],
                     "officer-invalid": ["Invalid link"], "admin-boundaries": ["published", "WITA"],
                     "login": ["Log in", "Password"]}}[lang]
    for name, words in expect.items():
        for word in words:
            assert word in texts[name], (name, word)
    # Numbers with the language's decimal mark (coordinates keep the dot: they are copied into other tools).
    mark = {"id": r"Keyakinan: \d,\d\d", "en": r"Confidence: \d\.\d\d"}[lang]
    assert re.search(mark, texts["console"]), texts["console"][:400]
    # The Anev 110 dashboard's period (title and page) and its week in the trend, as days people read.
    days = re.findall(r"\b\d{1,2} [A-Z][a-z]{2,3} \d{4} – \d{1,2} [A-Z][a-z]{2,3} \d{4}\b", texts["calls"])
    assert len(days) >= 3, texts["calls"][:600]


def test_the_header_toggle_switches_and_keeps_the_language(server: dict[str, Any], browser: Any) -> None:  # noqa: F811
    context = browser.new_context(locale="id-ID", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    _login(page, server["base"], "dispatcher1")
    page.goto(server["base"] + "/incidents")
    assert "Kejadian" in page.inner_text("header")
    page.click("header a[lang=en]")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/incidents") and "Incidents" in page.inner_text("header")
    page.goto(server["base"] + "/")  # the cookie keeps the choice on the next page
    assert "Console" in page.inner_text("header") and "Konsol" not in page.inner_text("body")
    context.close()
