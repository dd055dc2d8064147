"""One language per map (issue 17): popups, tooltips, legends and value labels in the chosen language.

Reads every text a map shows (``bindText``, ``infoControl`` and the ``valueLabels`` of unit
layers) from the rendered HTML and fails on an enum code or an English label on an Indonesian
map, or an Indonesian label on an English one.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from geo_service.maps import (
    calls,
    render_diff_map,
    render_incidents_map,
    render_locate_map,
    render_officer_map,
    render_problems_map,
)

#: Codes of enums that must never be shown as they are (on either language).
CODES = {"inside", "border", "nearest", "at_sea", "none", "corrected", "suspect", "invalid", "belum_ditangani",
         "dalam_proses", "selesai", "dibatalkan", "geometry_changed", "reparented", "kecelakaan", "pencurian"}
ENGLISH = {"Match", "Status: corrected", "Not yet handled", "In progress", "Cancelled", "Error", "Warning",
           "Added", "Removed", "Boundary changed", "Uncertainty", "Incidents", "Category", "Reported", "Legend",
           "inside the area", "near a border", "corrected", "Accident", "Theft", "Answer rate", "Calls",
           "Not answered", "On scene within target", "no calls", "answered", "within target"}
INDONESIAN = {"Kecocokan", "dikoreksi", "Belum Ditangani", "Dalam Proses", "Dibatalkan", "Galat", "Peringatan",
              "Ditambah", "Dihapus", "Batas berubah", "Ketidakpastian", "Kejadian", "Kategori", "Dilaporkan",
              "Keterangan", "di dalam wilayah", "dekat batas wilayah", "Kecelakaan", "Pencurian", "Tingkat jawab",
              "Panggilan", "Tidak dijawab", "Tiba dalam target", "tidak ada panggilan", "dijawab", "dalam target"}
LAT, LON = -8.358, 114.62


def _result(match: str) -> dict[str, Any]:
    return {"status": "corrected", "match": match, "point": {"lat": LAT, "lon": LON},
            "original": {"lat": -LAT, "lon": LON}, "uncertainty_m": 50,
            "jurisdiction": {"polsek": {"code": "51.01.01", "name": "Polsek Negara"},
                             "polres": {"code": "51.01", "name": "Polres Jembrana"}},
            "candidates": [{"polsek": {"code": "51.01.02", "name": "Polsek Mendoyo"}, "share": 0.4,
                            "distance_m": 120.0}],
            "flags": [{"code": "PRESUMED_NEGATED_LATITUDE", "message": "…"}]}


def _maps(lang: str) -> dict[str, str]:
    common: dict[str, Any] = {"tile_url": None, "assets_url": "/maps/", "lang": lang}
    incidents = [{"id": i, "lat": LAT + i * 0.001, "lon": LON, "status": s, "category": c,
                  "reported_at": "2026-11-30T20:08:00+08:00"}
                 for i, (s, c) in enumerate([("belum_ditangani", "kecelakaan"), ("dalam_proses", "pencurian"),
                                             ("selesai", "lainnya"), ("dibatalkan", "kdrt")])]
    items = [{"code": "GAP", "severity": "warning", "message": "celah", "lon": LON, "lat": LAT},
             {"code": "OVERLAP", "severity": "error", "message": "tumpang tindih", "lon": LON, "lat": LAT + 0.01}]
    diff = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "51.01.01", "name": "A", "change": change},
         "geometry": {"type": "Point", "coordinates": [LON + i * 0.01, LAT]}}
        for i, change in enumerate(["added", "removed", "geometry_changed"])]}
    # services.calls.child_map_features of a Polda report: one unit per band of each share
    units = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {
            "code": f"51.0{i}", "name": f"Polres {i}", "level": "polres", "offered": 10, "not_answered": 10 - i,
            "answer_rate": f"{i * 10}.0 %", "band": band, "on_scene": 4, "within_target": 1,
            "within_target_share": "25.0 %", "target_band": target},
         "geometry": {"type": "Point", "coordinates": [LON + i * 0.01, LAT]}}
        for i, (band, target) in enumerate([("lt50", "ge90"), ("50_80", "none"), ("ge90", "lt50")], 1)]}
    return {
        "answer-rate": calls.render_answer_rate_map(units, **common),
        "response": calls.render_response_map(units, **common),
        "locate-border": render_locate_map(_result("border"), **common),
        "locate-inside": render_locate_map(_result("inside"), **common),
        "officer": render_officer_map(_result("nearest"), **common),
        "incidents": render_incidents_map(incidents, heat=True, **common),
        "problems": render_problems_map(items, **common),
        "diff": render_diff_map(diff, **common),
    }


def _flatten(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _flatten(v)]
    if isinstance(value, list):
        return [s for v in value for s in _flatten(v)]
    return []


def shown_texts(html: str) -> list[str]:
    """Every text a person can read on the map (popups, tooltips, info boxes, value labels)."""
    decoder = json.JSONDecoder()
    texts: list[str] = []
    for m in re.finditer(r"GeoServiceMaps\.(?:bindText|infoControl|addPoints)\(\w+, ", html):
        value, _end = decoder.raw_decode(html, m.end())
        texts += _flatten(value)
    for m in re.finditer(r'"valueLabels": ', html):
        value, _end = decoder.raw_decode(html, m.end())
        texts += _flatten(value)
    for m in re.finditer(r'"(?:name|errorText|title|title_cancel|prefix)": ', html):
        try:
            value, _end = decoder.raw_decode(html, m.end())
        except json.JSONDecodeError:
            continue
        texts += _flatten(value)
    return texts


def _offending(texts: list[str], words: set[str]) -> list[str]:
    return [f"{w!r} in {t!r}" for t in texts for w in words
            if re.search(r"(?<![\w])" + re.escape(w) + r"(?![\w])", t)]


@pytest.mark.parametrize("name", ["locate-border", "locate-inside", "officer", "incidents", "problems", "diff",
                                  "answer-rate", "response"])
def test_indonesian_maps_show_no_english_and_no_codes(name: str) -> None:
    texts = shown_texts(_maps("id")[name])
    assert len(texts) > 3, texts
    assert not _offending(texts, CODES | ENGLISH)


@pytest.mark.parametrize("name", ["locate-border", "locate-inside", "officer", "incidents", "problems", "diff",
                                  "answer-rate", "response"])
def test_english_maps_show_no_indonesian_and_no_codes(name: str) -> None:
    texts = shown_texts(_maps("en")[name])
    assert len(texts) > 3, texts
    english_words = {"inside", "border", "nearest", "none", "corrected", "suspect", "invalid"}
    assert not _offending(texts, (CODES - english_words) | INDONESIAN)


def test_popup_words_the_status_match_and_local_time() -> None:
    maps_id, maps_en = _maps("id"), _maps("en")
    texts_id = shown_texts(maps_id["locate-border"])
    assert ["Status", "dikoreksi"] == texts_id[texts_id.index("Status"):texts_id.index("Status") + 2]
    assert "dekat batas wilayah" in texts_id
    assert "near a border" in shown_texts(maps_en["locate-border"])
    assert "30 Nov 2026 20.08 WITA" in shown_texts(maps_id["incidents"])
    assert "30 Nov 2026 20:08 WITA" in shown_texts(maps_en["incidents"])
    assert "Belum Ditangani" in shown_texts(maps_id["incidents"])
