"""The server-side SVG charts: valid XML, bars proportional to their counts, hostile names stay text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from geo_service.maps.charts import (
    STATUS_COLOURS,
    TEXT_COLOUR,
    Series,
    render_bar_chart,
    status_series,
)

SVG = "{http://www.w3.org/2000/svg}"
LABELS = {"belum_ditangani": "Belum Ditangani", "dalam_proses": "Dalam Proses", "selesai": "Selesai",
          "dibatalkan": "Dibatalkan"}


def _chart(categories: list[tuple[str, str]], values: dict[str, dict[str, int]], **kw: str) -> ET.Element:
    svg = render_bar_chart(chart_id="c", title=kw.get("title", "Status per satuan"), categories=categories,
                           series=status_series(LABELS), values=values, x_label=kw.get("x", "Satuan"),
                           y_label=kw.get("y", "Kejadian"))
    return ET.fromstring(svg)


def _bars(root: ET.Element) -> dict[tuple[str, str], tuple[float, int]]:
    out = {}
    for g in root.iter(SVG + "g"):
        if g.get("class") != "bar":
            continue
        for rect in g.iter(SVG + "rect"):
            out[(g.get("data-category"), rect.get("data-series"))] = (float(rect.get("height")),
                                                                       int(rect.get("data-value")))
    return out


def test_valid_svg_with_title_axis_labels_and_legend() -> None:
    root = _chart([("51.01", "Polres Jembrana"), ("51.02", "Polres Tabanan")],
                  {"51.01": {"belum_ditangani": 2, "selesai": 3}, "51.02": {"dalam_proses": 1}})
    assert root.tag == SVG + "svg" and root.get("role") == "img"
    assert root.find(SVG + "title").text == "Status per satuan"
    texts = [t.text for t in root.iter(SVG + "text")]
    assert "Satuan" in texts and "Kejadian" in texts  # axis labels
    legend = next(g for g in root.iter(SVG + "g") if g.get("class") == "legend")
    assert [t.text for t in legend.iter(SVG + "text")] == list(LABELS.values())
    assert {r.get("fill") for r in legend.iter(SVG + "rect")} == set(STATUS_COLOURS.values())
    # no script and no event handler anywhere (the CSP forbids them; the chart must not need them)
    for el in root.iter():
        assert not el.tag.endswith("script")
        assert not any(name.lower().startswith("on") for name in el.attrib), el.attrib
        assert "style" not in el.attrib


def test_bar_heights_are_proportional_to_counts() -> None:
    values = {"a": {"belum_ditangani": 1, "selesai": 3}, "b": {"dalam_proses": 8}, "c": {"dibatalkan": 2}}
    bars = _bars(_chart([("a", "A"), ("b", "B"), ("c", "C")], values))
    assert set(bars) == {("a", "belum_ditangani"), ("a", "selesai"), ("b", "dalam_proses"), ("c", "dibatalkan")}
    per_unit = {key: h / v for key, (h, v) in bars.items()}
    scale = per_unit[("b", "dalam_proses")]
    assert scale > 0
    for key, ratio in per_unit.items():
        assert ratio == pytest.approx(scale, rel=1e-3), key
    totals = {cat: sum(h for (c, _s), (h, _v) in bars.items() if c == cat) for cat in "abc"}
    assert totals["a"] / totals["b"] == pytest.approx(4 / 8, rel=1e-3)
    assert totals["c"] / totals["b"] == pytest.approx(2 / 8, rel=1e-3)


def test_stacked_segments_do_not_overlap() -> None:
    bars = _chart([("a", "A")], {"a": {"belum_ditangani": 1, "dalam_proses": 2, "selesai": 3}})
    rects = sorted(((float(r.get("y")), float(r.get("height"))) for g in bars.iter(SVG + "g")
                    if g.get("class") == "bar" for r in g.iter(SVG + "rect")))
    for (y1, h1), (y2, _h2) in zip(rects, rects[1:], strict=False):
        assert y1 + h1 == pytest.approx(y2, abs=0.05)


def test_hostile_unit_names_stay_text() -> None:
    hostile = '<script>alert("x")</script>&"\'>'
    svg = render_bar_chart(chart_id='x" onload="alert(1)', title=hostile, categories=[(hostile, hostile)],
                           series=[Series("count", hostile, "#0072b2")], values={hostile: {"count": 3}},
                           x_label=hostile, y_label=hostile)
    assert "<script" not in svg
    root = ET.fromstring(svg)
    assert not [el for el in root.iter() if el.tag.endswith("script")]
    assert root.find(SVG + "title").text == hostile
    assert hostile[:21] + "…" in [t.text for t in root.iter(SVG + "text")]
    assert root.get("id") == 'x" onload="alert(1)'  # one attribute value, not a second attribute
    assert not any(k.startswith("on") for el in root.iter() for k in el.attrib)


def test_empty_chart_is_still_valid() -> None:
    root = _chart([], {})
    assert root.find(SVG + "title").text == "Status per satuan"
    assert not _bars(root)
    root = _chart([("a", "A")], {"a": {}})
    assert not _bars(root)


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def test_text_colour_meets_wcag_aa_on_white() -> None:
    ratio = (1.0 + 0.05) / (_luminance(TEXT_COLOUR) + 0.05)
    assert ratio >= 4.5
    svg = render_bar_chart(chart_id="c", title="t", categories=[("a", "A")], series=[Series("n", "n", "#0072b2")],
                           values={"a": {"n": 1}}, x_label="x", y_label="y")
    assert {t.get("fill") for t in ET.fromstring(svg).iter(SVG + "text")} == {TEXT_COLOUR}
