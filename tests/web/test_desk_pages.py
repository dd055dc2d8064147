"""Issue 17 through the Flask test client: the three SVG pictures on the recap and incidents pages (in the
page's language, escaped, under the CSP) and the console's desk (radio line, last-lookups list, shortcuts).
The same in a real Chromium, keyboard only: tests/web/test_browser_desk.py."""

from __future__ import annotations

import html as html_lib
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import dispose_app, make_app
from tests.web.test_pages import PASSWORD, csrf_of, login

SVG = "{http://www.w3.org/2000/svg}"
CHART_IDS = ("chart-by-unit", "chart-trend", "chart-first-action")


@pytest.fixture(scope="module")
def desk_app(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[Any]:
    from geo_service.services import accounts
    from geo_service.services import incidents as svc

    application = make_app(backend, tmp_path_factory.mktemp("desk"), secure_cookies=False)
    ext = application.extensions["geo_service"]
    with ext.storage.transaction() as s:
        for name, role, unit in (("disp", "dispatcher", None), ("sup", "supervisor", "51.01"),
                                 ("adm", "admin", None)):
            accounts.create_user(s, username=name, password=PASSWORD, role=role, unit_code=unit, actor="test")
        svc.seed_demo_incidents(s, ext.holder.current(), count=40)
    yield application
    dispose_app(application)


def _svgs(html: str) -> dict[str, ET.Element]:
    out = {}
    for m in re.finditer(r"<svg .*?</svg>", html, re.S):
        root = ET.fromstring(m.group(0))  # each chart is well-formed XML as served
        out[root.get("id")] = root
    return out


def test_recap_page_has_three_charts_in_indonesian(desk_app: Any) -> None:
    c = login(desk_app, "adm")
    html = c.get("/reports/weekly?unit=51").get_data(as_text=True)
    charts = _svgs(html)
    assert set(CHART_IDS) <= set(charts)
    titles = {k: charts[k].find(SVG + "title").text for k in CHART_IDS}
    assert titles == {"chart-by-unit": "Status per satuan", "chart-trend": "Kejadian per minggu (8 minggu terakhir)",
                      "chart-first-action": "Waktu sampai tindakan pertama"}
    legend = [t.text for g in charts["chart-by-unit"].iter(SVG + "g") if g.get("class") == "legend"
              for t in g.iter(SVG + "text")]
    assert legend == ["Belum Ditangani", "Dalam Proses", "Selesai", "Dibatalkan"]
    bars = [g for g in charts["chart-by-unit"].iter(SVG + "g") if g.get("class") == "bar"]
    assert [g.get("data-category") for g in bars] == [u.code for u in
                                                      desk_app.extensions["geo_service"].holder.current().children("51")]
    # the bars add up to the recap's own table of units below
    api = c.get("/api/v1/reports/weekly?unit=51").get_json()
    assert {g.get("data-category"): int(g.get("data-total")) for g in bars} == \
        {ch["code"]: ch["total"] for ch in api["children"]}
    trend = [g for g in charts["chart-trend"].iter(SVG + "g") if g.get("class") == "bar"]
    assert len(trend) == 8 and trend[-1].get("data-category") == api["week"]
    assert int(trend[-1].get("data-total")) == api["total"]
    buckets = [t.text for t in charts["chart-first-action"].iter(SVG + "text") if t.get("class") == "category-label"]
    assert buckets == ["< 15 mnt", "15–30 mnt", "30–60 mnt", "1–2 jam", "2–4 jam", "> 4 jam", "masih terbuka"]
    assert "<script" not in "".join(re.findall(r"<svg .*?</svg>", html, re.S))


def test_recap_charts_in_english(desk_app: Any) -> None:
    c = login(desk_app, "sup")
    charts = _svgs(c.get("/reports/weekly?lang=en").get_data(as_text=True))
    assert charts["chart-by-unit"].find(SVG + "title").text == "Status by unit"
    assert charts["chart-first-action"].find(SVG + "title").text == "Time to first action"
    texts = [t.text for t in charts["chart-trend"].iter(SVG + "text")]
    assert "Week" in texts and "Incidents" in texts


def test_incidents_page_has_the_charts(desk_app: Any) -> None:
    c = login(desk_app, "sup")
    html = c.get("/incidents?from=2000-01-01").get_data(as_text=True)
    charts = _svgs(html)
    assert set(CHART_IDS) <= set(charts)
    total = int(re.search(r"<p>(\d+) ", html).group(1))
    bars = [g for g in charts["chart-by-unit"].iter(SVG + "g") if g.get("class") == "bar"]
    # the supervisor of 51.01 sees the Polsek of 51.01; the unassigned incidents of that unit are not in a bar
    assert bars and all(g.get("data-category").startswith("51.01.") for g in bars)
    assert sum(int(g.get("data-total")) for g in bars) <= total
    first = [g for g in charts["chart-first-action"].iter(SVG + "g") if g.get("class") == "bar"]
    assert sum(int(g.get("data-total")) for g in first) <= total


def test_console_radio_line_and_desk(desk_app: Any) -> None:
    c = login(desk_app, "disp")
    html = c.get("/").get_data(as_text=True)
    assert 'id="last-lookups"' in html and "/maps/geo_service/desk.js" in html
    assert 'id="radio-line"' not in html  # nothing located yet
    assert "Alt</kbd>+<kbd>C" in html and "Alt</kbd>+<kbd>L" in html  # the shortcuts are written on the page
    assert 'data-user="user:disp"' in html  # the list is kept per user
    r = c.post("/", data={"q": "8.358, 114.62", "csrf_token": csrf_of(html), "action": "locate"})
    page = r.get_data(as_text=True)
    line = html_lib.unescape(re.search(r'<output id="radio-line"[^>]*>([^<]*)</output>', page).group(1))
    assert line.startswith("Polsek Negara · -8.35800, 114.62000 · ±")
    assert line.endswith(" m · dikoreksi: tanda lintang"), line
    assert f'data-copy="{html_lib.escape(line)}"' in page
    assert 'data-query="8.358, 114.62"' in page
    r = c.post("/?lang=en", data={"q": "8.358, 114.62", "csrf_token": csrf_of(html), "action": "locate"})
    line_en = html_lib.unescape(re.search(r'<output id="radio-line"[^>]*>([^<]*)</output>',
                                          r.get_data(as_text=True)).group(1))
    assert line_en.endswith(" m · corrected: latitude sign"), line_en


def test_desk_assets_are_served(desk_app: Any) -> None:
    c = desk_app.test_client()
    js = c.get("/maps/geo_service/desk.js")
    assert js.status_code == 200 and b"localStorage" in js.data and b"innerHTML" not in js.data
    assert c.get("/maps/geo_service/desk.css").status_code == 200
