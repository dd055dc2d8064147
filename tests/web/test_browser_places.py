"""Place-name suggestions in the dispatcher console, in a real headless Chromium against `geo-service serve`.

Reuses the server and browser of test_browser_pages (same set-up, same offline tiles) with the
gazetteer loaded at first start, as in production.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.test_browser_pages import Watch, _login, _map_frame, browser, server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser
BALER = "51.01.01.1006"


@pytest.fixture(scope="module", autouse=True)
def _with_places() -> Iterator[None]:
    """The module's server loads the gazetteer on first start (the test default is off)."""
    old = os.environ.get("GEO_SERVICE_LOAD_PLACES")
    os.environ["GEO_SERVICE_LOAD_PLACES"] = "true"
    yield
    if old is None:
        os.environ.pop("GEO_SERVICE_LOAD_PLACES", None)
    else:
        os.environ["GEO_SERVICE_LOAD_PLACES"] = old


def _selected(page: Any) -> list[str]:
    return page.eval_on_selector_all("#place-suggestions li[aria-selected=true]", "els => els.map(e => e.dataset.code)")


def test_type_arrow_down_enter_locates_the_village(server: dict[str, Any], browser: Any,  # noqa: F811
                                                   artifacts_dir: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    watch = Watch(page, server["base"])
    _login(page, server["base"], "dispatcher1")
    page.focus("#q")
    page.keyboard.type("baler bale agu", delay=30)  # lower case, a word not finished: a suggestion, not an answer
    page.wait_for_selector("#place-suggestions li", timeout=30000)
    options = page.eval_on_selector_all("#place-suggestions li", "els => els.map(e => e.dataset.code)")
    assert options[0] == BALER
    assert page.get_attribute("#q", "aria-expanded") == "true"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    assert _selected(page) == [BALER]
    assert page.get_attribute("#q", "aria-activedescendant") == "place-opt-0"
    page.screenshot(path=str(artifacts_dir / "console-place-suggestions.png"))
    page.keyboard.press("Enter")
    page.wait_for_selector("#result")
    assert page.get_attribute("#result", "data-status") == "approximate"
    assert page.get_attribute("#place", "data-code") == BALER
    assert page.input_value("#q") == "Baler Bale Agung, Negara, Kabupaten Jembrana"
    assert "Polsek Negara" in page.inner_text("#summary")
    assert "PLACE_NAME" in page.inner_text("ul.flags")
    frame = _map_frame(page)
    frame.wait_for_selector("path.leaflet-interactive", timeout=15000)
    # the village polygon (bundled for Bali) instead of its circle, and the responsible Polsek
    assert len(frame.query_selector_all("path.leaflet-interactive")) >= 2
    html = frame.content()
    assert "51.01.01.1006" in html and "L.circle(" not in html
    page.screenshot(path=str(artifacts_dir / "console-place-located.png"))
    assert not watch.foreign(), watch.foreign()
    assert not watch.dialogs
    page.close()


def test_escape_closes_and_coordinates_get_no_suggestions(server: dict[str, Any], browser: Any) -> None:  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    _login(page, server["base"], "dispatcher1")
    page.focus("#q")
    page.keyboard.type("Sukamaju", delay=20)
    page.wait_for_selector("#place-suggestions li", timeout=30000)
    page.keyboard.press("Escape")
    assert page.is_hidden("#place-suggestions")
    page.fill("#q", "")
    page.keyboard.type("-8.3582, 114.6198", delay=10)
    page.wait_for_timeout(800)  # longer than the debounce
    assert page.is_hidden("#place-suggestions")
    page.keyboard.press("Enter")  # no suggestion open: Enter sends the coordinate as typed
    page.wait_for_selector("#result")
    assert page.get_attribute("#result", "data-status") == "valid"
    page.close()
