"""110 response milestones in a real headless Chromium at phone width (390 px), with geolocation granted
and set, against a real `geo-service serve` (the server fixture of test_browser_pages).

The officer taps "Terima", "Menuju lokasi" (while offline: the tap is queued and sent when the phone is back
online), "Tiba di lokasi" (the first answer is lost on the way back: the retry with the same idempotency key
counts once) and "Selesai"; then the incident page, the API report and the Anev dashboard show the response
time. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
import urllib.request
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.web.test_browser_pages import _login, browser, server  # noqa: F401 - the shared fixtures

pytestmark = pytest.mark.browser
INCIDENT = (-8.6500, 115.2160)  # Denpasar


def _api(srv: dict[str, Any], method: str, path: str, body: Any = None) -> Any:
    req = urllib.request.Request(srv["base"] + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {srv['admin_token']}",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=20) as resp:
        return json.loads(resp.read())


def _wait(page: Any, selector: str, timeout_ms: int = 15000) -> None:
    page.wait_for_selector(selector, timeout=timeout_ms)


def test_officer_taps_milestones_and_the_pages_show_the_response_time(
        server: dict[str, Any], browser: Any, artifacts_dir: Any) -> None:  # noqa: F811
    reported = (datetime.now().astimezone() - timedelta(minutes=4)).replace(microsecond=0)
    inc = _api(server, "POST", "/api/v1/incidents", {
        "location": {"lat": INCIDENT[0], "lon": INCIDENT[1]}, "category": "kecelakaan", "channel": "call_110",
        "reported_at": reported.isoformat(), "description": "browser 110"})
    link = _api(server, "POST", "/api/v1/officer-links", {"incident_id": inc["id"]})

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                permissions=["geolocation"], locale="id-ID",
                                geolocation={"latitude": INCIDENT[0] + 0.0009, "longitude": INCIDENT[1]})
    page = phone.new_page()
    page.goto(server["base"] + link["url"])
    for kind in ("acknowledged", "en_route", "on_scene", "done"):
        assert page.is_visible(f"#ms-{kind}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.tap("#ms-acknowledged")
    _wait(page, "#ms-acknowledged[data-done]")

    phone.set_offline(True)
    page.tap("#ms-en_route")
    _wait(page, "#ms-status:has-text('sinyal')")
    assert page.get_attribute("#ms-en_route", "data-done") is None
    assert "en_route" in page.evaluate("JSON.stringify(localStorage)")
    phone.set_offline(False)
    _wait(page, "#ms-en_route[data-done]", 40000)

    lost = {"n": 0}

    def lose_first_answer(route: Any) -> None:
        if lost["n"] == 0 and route.request.method == "POST":
            lost["n"] += 1
            route.fetch()  # the server records the tap ...
            route.abort()  # ... and the answer never reaches the phone
        else:
            route.continue_()

    page.route("**/milestones", lose_first_answer)
    page.tap("#ms-on_scene")
    _wait(page, "#ms-on_scene[data-done]", 40000)
    page.unroute("**/milestones")
    page.tap("#ms-done")
    _wait(page, "#ms-done[data-done]")
    page.screenshot(path=str(artifacts_dir / "calls-officer-buttons.png"), full_page=True)

    line = _api(server, "GET", f"/api/v1/incidents/{inc['id']}/milestones")["milestones"]
    kinds = [m["kind"] for m in line]
    assert kinds == ["received", "dispatched", "acknowledged", "en_route", "on_scene", "done"]
    scene = next(m for m in line if m["kind"] == "on_scene")
    assert 230 <= scene["s_since_call"] <= 400 and 90 < scene["distance_m"] < 110 and scene["far"] is False
    assert _api(server, "GET", f"/api/v1/incidents/{inc['id']}")["status"] == "selesai"

    desk = browser.new_page(viewport={"width": 1200, "height": 900}, locale="id-ID")
    _login(desk, server["base"], "admin1")
    desk.goto(server["base"] + f"/incidents/{inc['id']}")
    row = desk.inner_text("#timeline tr[data-kind=on_scene]")
    assert "Tiba di lokasi" in row
    minutes, seconds = map(int, desk.inner_text("#timeline tr[data-kind=on_scene] td.since").split(":"))
    assert minutes * 60 + seconds == scene["s_since_call"]

    days = f"from={(reported - timedelta(days=1)).date()}&to={(reported + timedelta(days=1)).date()}"
    rep = _api(server, "GET", f"/api/v1/reports/calls?unit=51&{days}")
    assert rep["response"]["on_scene"] >= 1 and rep["response"]["median_s_to_scene"] is not None
    desk.goto(server["base"] + f"/reports/calls?unit=51&{days}")
    assert desk.inner_text("#median-scene").strip() != "— / —"
    # Beside the answer-rate map, the response-time compliance map: Polresta Denpasar's arrival within the
    # 10-minute target paints it in the top band (green), the others without an arrival grey; legend in Indonesian.
    frames = {}
    for name in ("calls-map", "response-map"):
        frame = desk.wait_for_selector(f"#{name}").content_frame()
        assert frame is not None
        frame.wait_for_selector("path.leaflet-interactive", timeout=15000)
        frames[name] = frame
    response = frames["response-map"]
    assert "Tiba dalam target" in response.inner_text(".gs-info") and "< 50 % dalam target" in \
        response.inner_text(".gs-info")
    fills = response.eval_on_selector_all("path.leaflet-interactive", "ps => ps.map(p => p.getAttribute('fill'))")
    assert len(fills) >= 9 and "#38761d" in fills and "#999999" in fills  # Bali's Polres, one on time
    assert "Tingkat jawab 110" in frames["calls-map"].inner_text(".gs-info")
    box = desk.eval_on_selector_all(".map-pair iframe", "fs => fs.map(f => f.getBoundingClientRect().top)")
    assert len(box) == 2 and abs(box[0] - box[1]) < 2  # side by side at desk width
    desk.screenshot(path=str(artifacts_dir / "calls-dashboard.png"), full_page=True)
    phone.close()
    desk.close()
