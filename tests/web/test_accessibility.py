"""Accessibility (issue 17): axe-core on every page, in both languages, in a real headless Chromium.

The pages are those of the language walk (tests/web/test_browser_languages.py): login, the console
with its place suggestions open and with a located point and its map popup, incidents, one incident,
the weekly recap, the Anev 110 dashboard, the admin boundary and station pages, the officer page and
its error page, the caller's location page /l/<token> and the not-found page. axe-core is vendored
under maps/ for the tests only (the server refuses to send it) and injected into the page and into
every map iframe, so axe checks the Folium documents too. A violation of impact "serious" or
"critical" fails the test; every result goes to test-artifacts/axe-<page>-<lang>.json.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.web.test_browser_languages import LOCALES, walk
from tests.web.test_browser_pages import browser, server  # noqa: F401 - the shared fixtures
from tests.web.test_browser_places import _with_places  # noqa: F401 - the server loads the gazetteer

pytestmark = pytest.mark.browser
AXE = next((Path(__file__).resolve().parents[2] / "maps").glob("axe-core-4.*/axe.min.js"))
FAILING_IMPACTS = {"serious", "critical"}
#: Rules switched off, each for a third-party part we cannot change. None so far: an entry needs the rule id,
#: the element it hits and why it cannot be fixed in our templates, CSS, layers.js or geo_service/maps/base.py.
DISABLED_RULES: dict[str, str] = {}
#: Elements left out of the check, each a third-party internal we cannot change (selector -> reason).
EXCLUDED: dict[str, str] = {}


def run_axe(page: Any) -> dict[str, Any]:
    """axe-core's results for the page and its frames (axe is injected into every frame first)."""
    for frame in page.frames:
        if not frame.evaluate("typeof window.axe !== 'undefined'"):
            frame.add_script_tag(path=str(AXE))
    options = {"rules": {rule: {"enabled": False} for rule in DISABLED_RULES}}
    context = {"exclude": [[sel] for sel in EXCLUDED]} if EXCLUDED else {"include": [["html"]]}
    return dict(page.evaluate("([ctx, opts]) => axe.run(ctx, opts)", [context, options]))


def serious(results: dict[str, Any]) -> list[str]:
    """One line per serious or critical violation: rule, impact, and the elements it hits."""
    return [f"{v['id']} ({v['impact']}): {v['help']} -> " + "; ".join(
            " >> ".join(n["target"]) if isinstance(n["target"][0], str) else str(n["target"]) for n in v["nodes"][:5])
            for v in results["violations"] if v["impact"] in FAILING_IMPACTS]


def test_the_filter_keeps_only_serious_and_critical() -> None:
    results = {"violations": [
        {"id": "label", "impact": "critical", "help": "Form elements must have labels", "nodes": [{"target": ["#q"]}]},
        {"id": "region", "impact": "moderate", "help": "content in landmarks", "nodes": [{"target": ["p"]}]},
        {"id": "color-contrast", "impact": "serious", "help": "contrast",
         "nodes": [{"target": ["#map", ".leaflet-control a"]}]}]}
    assert serious(results) == ["label (critical): Form elements must have labels -> #q",
                                "color-contrast (serious): contrast -> #map >> .leaflet-control a"]


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_page_has_no_serious_accessibility_violation(server: dict[str, Any], browser: Any,  # noqa: F811
                                                           artifacts_dir: Path, lang: str) -> None:
    # bypass_csp: axe is injected as a script the pages' own CSP (nonces) would refuse.
    context = browser.new_context(locale=LOCALES[lang], viewport={"width": 1400, "height": 1000}, bypass_csp=True)
    found: dict[str, list[str]] = {}
    checked: list[str] = []

    def check(page: Any, name: str) -> None:
        results = run_axe(page)
        slim = {"url": results["url"], "testEngine": results["testEngine"], "violations": results["violations"],
                "incomplete": results["incomplete"], "passes": [r["id"] for r in results["passes"]]}
        (artifacts_dir / f"axe-{name}-{lang}.json").write_text(json.dumps(slim, indent=1, ensure_ascii=False))
        assert results["passes"], name  # axe really ran on a page with content
        checked.append(name)
        if serious(results):
            found[name] = serious(results)

    walk(context, server, lang, artifacts_dir, check)
    context.close()
    assert {"login", "console", "console-places", "calls", "caller", "officer", "not-found"} <= set(checked)
    assert not found, json.dumps(found, indent=1, ensure_ascii=False)


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_axe_is_never_sent_to_browsers(server: dict[str, Any]) -> None:  # noqa: F811
    folder = AXE.parent.name
    assert _status(server["base"] + "/maps/geo_service/app.css") == 200  # the folder is served ...
    for path in (f"/maps/{folder}/axe.min.js", f"/maps/{folder}/LICENSE", f"/maps/./{folder}/axe.min.js",
                 f"/maps/geo_service/../{folder}/axe.min.js", f"/maps/geo_service/%2E%2E/{folder}/axe.min.js",
                 f"/maps/{folder}%2Faxe.min.js", f"/maps/{folder}/"):
        assert _status(server["base"] + path) == 404, path  # ... but not the test-only axe-core


def test_keyboard_focus_is_visible(server: dict[str, Any], browser: Any) -> None:  # noqa: F811
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    page.goto(server["base"] + "/login")
    seen = []
    for _ in range(6):  # the header links and the form fields, as a keyboard user meets them
        page.keyboard.press("Tab")
        seen.append(page.evaluate("""() => { const e = document.activeElement, s = getComputedStyle(e);
            return [e.tagName, s.outlineStyle, parseFloat(s.outlineWidth)]; }"""))
    page.close()
    assert any(tag == "INPUT" for tag, _s, _w in seen), seen
    assert all(style == "solid" and width >= 2 for tag, style, width in seen if tag != "BODY"), seen
