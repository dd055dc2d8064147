"""Map pages: local assets only, hostile names shown as text, [lat, lon] order, small pages."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import folium
import pytest
from folium import plugins

from geo_service.errors import GeoServiceError, InvalidInput
from geo_service.maps import (
    ASSETS_DIR,
    DEFAULT_TILE_URL,
    asset_manifest,
    external_urls,
    referenced_assets,
    render_diff_map,
    render_incidents_map,
    render_locate_map,
    render_officer_map,
    render_overview_map,
    render_problems_map,
)
from geo_service.maps.base import finish, latlon, new_map, simplify_geojson

HOSTILE = "<img src=x onerror=alert(1)>"
TEMPLATE_BREAK = "`${alert(2)}`</script><script>alert(3)</script>"
UNITS_URL = "/api/v1/units?level=polsek&simplify=0.0005"
LON, LAT = 114.62, -8.358  # a point in Jembrana, (lon, lat)


def _square(lon: float, lat: float, half: float = 0.01) -> dict[str, Any]:
    ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half],
            [lon - half, lat + half], [lon - half, lat - half]]
    return {"type": "Polygon", "coordinates": [ring]}


def _unit(code: str, name: str, lon: float, lat: float) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name, "level": "polsek", "parent_code": "51.01"},
        "geometry": _square(lon, lat),
    }


def _result(name: str = "Polsek Negara", **changes: Any) -> dict[str, Any]:
    result = {
        "status": "corrected",
        "point": {"lat": LAT, "lon": LON},
        "original": {"lat": -LAT, "lon": LON},
        "flags": [{"code": "LAT_SIGN_FLIPPED", "message": f"sign added {name}"}],
        "uncertainty_m": 250.0,
        "match": "border",
        "jurisdiction": {
            "polda": {"code": "51", "name": "Polda Bali"},
            "polres": {"code": "51.01", "name": "Polres Jembrana"},
            "polsek": {"code": "51.01.01", "name": name},
        },
        "candidates": [
            {"polsek": {"code": "51.01.01", "name": name}, "polres": {"code": "51.01", "name": "Polres"},
             "share": 0.8, "distance_m": 0.0},
            {"polsek": {"code": "51.01.02", "name": "Polsek Mendoyo"}, "polres": {"code": "51.01"},
             "share": 0.2, "distance_m": 140.0},
        ],
        "stations": [
            {"code": "S-1", "name": f"Pos {name}", "unit_code": "51.01.01", "lat": LAT + 0.004,
             "lon": LON + 0.003, "distance_m": 540.0, "sample": True},
            {"code": "S-2", "name": "Mapolsek Negara", "unit_code": "51.01.01", "lat": LAT - 0.01,
             "lon": LON - 0.012, "distance_m": 1730.0, "sample": False},
        ],
    }
    result.update(changes)
    return result


def _incidents(name: str) -> list[dict[str, Any]]:
    statuses = ["belum_ditangani", "dalam_proses", "selesai", "dibatalkan"]
    return [
        {"id": i, "lat": LAT + i * 0.001, "lon": LON + i * 0.001, "status": statuses[i % 4],
         "category": name, "reported_at": "2024-05-01T10:00:00+08:00"}
        for i in range(8)
    ]


def _pages(name: str, lang: str = "id", tile_url: str | None = DEFAULT_TILE_URL,
           assets_url: str = "/maps/") -> dict[str, Callable[[], str]]:
    unit = _unit("51.01.01", name, LON + 0.001, LAT + 0.001)
    neighbours = {"type": "FeatureCollection",
                  "features": [_unit("51.01.02", name + " 2", LON + 0.03, LAT + 0.001)]}
    problems = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "OVERLAP", "severity": "error", "message": name},
         "geometry": _square(LON + 0.05, LAT)},
        {"type": "Feature", "properties": {"code": "REPAIRED", "severity": "repaired", "message": "ok"},
         "geometry": _square(LON + 0.08, LAT)},
    ]}
    items: list[dict[str, Any]] = [{"code": "GAP", "severity": "warning", "message": name, "lon": LON, "lat": LAT},
             {"code": "CHILD_OUTSIDE_PARENT", "severity": "error", "message": "x"}]
    diff = {"type": "FeatureCollection", "features": [
        dict(_unit("51.01.01", name, LON, LAT), properties={"code": "51.01.01", "name": name,
                                                           "change": "geometry_changed"}),
        dict(_unit("51.01.03", "B", LON + 0.05, LAT), properties={"code": "51.01.03", "name": "B",
                                                                 "change_type": "added"}),
    ]}
    common: dict[str, Any] = {"tile_url": tile_url, "assets_url": assets_url, "lang": lang}
    return {
        "overview": lambda: render_overview_map(units_url=UNITS_URL, **common),
        "locate": lambda: render_locate_map(_result(name), units_url=UNITS_URL, unit_geojson=unit,
                                            neighbour_geojson=neighbours, **common),
        "officer": lambda: render_officer_map(_result(name), unit_geojson=unit, **common),
        "problems": lambda: render_problems_map(items, units_url=UNITS_URL, problem_geojson=problems,
                                                **common),
        "diff": lambda: render_diff_map(diff, **common),
        "incidents": lambda: render_incidents_map(_incidents(name), heat=True, **common),
    }


PAGE_NAMES = list(_pages("x"))


def _script(html: str) -> str:
    return html[html.index("<body>"):]


def _outside_json_strings(text: str) -> str:
    """``text`` with every double-quoted JSON/JS string literal removed."""
    return re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', text)


# --- the asset table ------------------------------------------------------------------------

def test_every_manifest_file_is_vendored() -> None:
    missing = [rel for rel in asset_manifest().values() if not (ASSETS_DIR / rel).is_file()]
    assert missing == []
    assert (ASSETS_DIR / "geo_service" / "layers.js").is_file()
    assert (ASSETS_DIR / "README.md").is_file()


def test_manifest_covers_folium_and_the_plugins_we_use() -> None:
    manifest = asset_manifest()
    classes: list[Any] = [folium.Map, plugins.Fullscreen, plugins.MeasureControl, plugins.MousePosition,
               plugins.MarkerCluster, plugins.HeatMap]
    for cls in classes:
        for _name, url in [*cls.default_js, *cls.default_css]:
            assert url in manifest, (cls.__name__, url)


def test_every_url_in_vendored_css_resolves() -> None:
    for css in ASSETS_DIR.rglob("*.css"):
        for ref in re.findall(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)""", css.read_text(encoding="utf-8")):
            if ref.startswith(("data:", "#")):
                continue
            target = (css.parent / ref.split("?")[0].split("#")[0]).resolve()
            assert target.is_file(), (css.relative_to(ASSETS_DIR), ref)


def test_assets_stay_small_and_licensed() -> None:
    files = [p for p in ASSETS_DIR.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 3 * 1024 * 1024
    vendored = {p.relative_to(ASSETS_DIR).parts[0] for p in files} - {"README.md", "geo_service"}
    for folder in vendored:
        names = [p.name.upper() for p in (ASSETS_DIR / folder).iterdir()]
        assert any("LICEN" in n for n in names), folder
        assert folder in (ASSETS_DIR / "README.md").read_text(encoding="utf-8"), folder


# --- every page -----------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("page", PAGE_NAMES)
def test_page_loads_nothing_from_outside(page: str, lang: str) -> None:
    html = _pages("Polsek Negara", lang)[page]()
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert external_urls(html, {DEFAULT_TILE_URL}) == []
    assert "cdn" not in html.lower()
    assert DEFAULT_TILE_URL in html
    refs = referenced_assets(html)
    assert "leaflet-1.9.3/leaflet.js" in refs and "geo_service/layers.js" in refs
    assert [r for r in refs if not (ASSETS_DIR / r).is_file()] == []


@pytest.mark.parametrize("page", PAGE_NAMES)
def test_assets_prefix_and_no_tiles(page: str) -> None:
    html = _pages("Polsek Negara", tile_url=None, assets_url="/static/peta")[page]()
    assert external_urls(html) == []
    assert 'src="/static/peta/leaflet-1.9.3/leaflet.js"' in html
    assert "/maps/" not in html
    assert "L.tileLayer" not in html


@pytest.mark.parametrize("page", PAGE_NAMES)
def test_hostile_names_are_data_not_markup(page: str) -> None:
    name = HOSTILE + TEMPLATE_BREAK
    html = _pages(name)[page]()
    if page != "overview":  # the overview fetches names at run time; nothing to inline
        assert "\\u003cimg src=x onerror=alert(1)\\u003e" in html
    assert HOSTILE not in html
    assert "</script><script>alert(3)" not in html
    # the template-literal breaker only ever sits inside a JSON string literal
    assert "${alert(2)}" not in _outside_json_strings(_script(html))
    assert "onerror" not in _outside_json_strings(_script(html))


def test_folium_tooltip_would_not_be_safe() -> None:
    """Why we bypass folium.Tooltip/Popup: folium pastes text into a JS template literal."""
    fmap = folium.Map(tiles=None)
    folium.Marker([0, 0], tooltip=folium.Tooltip(HOSTILE + TEMPLATE_BREAK)).add_to(fmap)
    html = fmap.get_root().render()
    assert HOSTILE in html and "${alert(2)}" in html
    fmap = folium.Map(tiles=None)
    folium.Marker([0, 0], popup=folium.Popup("${alert(2)} <b>x</b>")).add_to(fmap)
    html = fmap.get_root().render()
    # backticks are escaped, but ${...} still runs inside the template literal, and HTML passes
    assert "$(`<div" in html and "${alert(2)} <b>x</b>" in html


# --- coordinates ----------------------------------------------------------------------------

def test_latlon_is_the_one_swap() -> None:
    assert latlon(LON, LAT) == [LAT, LON]


@pytest.mark.parametrize("page", ["locate", "officer"])
def test_point_is_given_to_leaflet_as_lat_lon(page: str) -> None:
    html = _pages("Polsek Negara")[page]()
    assert "[-8.358, 114.62]" in html
    assert "[114.62, -8.358]" not in html


def test_incidents_and_heat_are_lat_lon() -> None:
    html = render_incidents_map(
        [{"id": 1, "lat": LAT, "lon": LON, "status": "selesai", "category": "c", "reported_at": "t"}],
        tile_url=DEFAULT_TILE_URL, assets_url="/maps/", lang="id", heat=True,
    )
    assert '"latlng": [-8.358, 114.62]' in html
    assert "[-8.358, 114.62, 1.0]" in html  # heat point
    assert "#1a9641" in html  # selesai is green
    assert re.search(r"iconCreateFunction\s*=\s*GeoServiceMaps\.clusterIcon", html)


def test_inlined_geojson_stays_lon_lat() -> None:
    unit = _unit("51.01.01", "U", 115.0, -8.5)
    html = render_officer_map({"point": None}, tile_url=None, assets_url="/maps/", lang="id",
                              unit_geojson=unit)
    assert "[114.99, -8.51]" in html  # GeoJSON order, read as such by L.geoJSON


# --- content --------------------------------------------------------------------------------

def test_overview_does_not_inline_polygons_and_is_small() -> None:
    html = render_overview_map(units_url=UNITS_URL, tile_url=DEFAULT_TILE_URL)
    assert '"/api/v1/units?level=polsek\\u0026simplify=0.0005"' in html
    assert '"coordinates"' not in html
    assert len(html.encode("utf-8")) < 12_000


def test_locate_map_shows_everything_it_promises() -> None:
    html = _pages("Polsek Negara")["locate"]()
    assert "L.Control.Measure" not in html  # needs eval, refused by our CSP
    for needle in ("L.control.fullscreen", "L.Control.MousePosition",
                   "L.control.layers", "L.circle(", "L.polyline(", "CONTOH/sampel",
                   "LAT_SIGN_FLIPPED", "Wilayah tetangga (perbatasan)", "Polsek yang berwenang",
                   '"radius": 250.0'):
        assert needle in html, needle


def test_neighbours_only_on_border_match() -> None:
    neighbours = {"type": "FeatureCollection", "features": [_unit("51.01.02", "N", LON + 0.03, LAT)]}
    html = render_locate_map(_result(match="inside"), tile_url=DEFAULT_TILE_URL,
                             neighbour_geojson=neighbours)
    assert "Wilayah tetangga" not in html


def test_english_labels() -> None:
    html = _pages("Polsek Negara", lang="en")["locate"]()
    assert "SAMPLE" in html and "Full screen" in html and "Responsible Polsek" in html
    assert "Layar penuh" not in html
    assert '<html lang="en">' in html


def test_unknown_language_is_refused() -> None:
    with pytest.raises(InvalidInput):
        render_overview_map(units_url=UNITS_URL, tile_url=DEFAULT_TILE_URL, lang="fr")


def test_result_without_point_still_renders() -> None:
    html = render_locate_map({"status": "invalid", "point": None, "original": None,
                              "flags": [{"code": "COORDINATE_INVALID", "message": "?"}]},
                             tile_url=DEFAULT_TILE_URL)
    assert "Tidak ada titik" in html and "COORDINATE_INVALID" in html


def test_tile_url_with_query_string_is_allowed() -> None:
    tiles = "https://tiles.polri.example/{z}/{x}/{y}.png?key=abc&style=light"
    html = render_overview_map(units_url=UNITS_URL, tile_url=tiles)
    assert external_urls(html, {tiles}) == []
    assert external_urls(html, {DEFAULT_TILE_URL}) != []


def test_unvendored_plugin_is_refused() -> None:
    fmap = new_map(tile_url=None, assets_url="/maps/", lang="id")
    plugins.Draw().add_to(fmap)
    with pytest.raises(GeoServiceError) as info:
        finish(fmap, tile_url=None, assets_url="/maps/", lang="id")
    assert info.value.code == "MAP_ASSET_MISSING"


def test_real_unit_is_simplified_for_display() -> None:
    from geo_service.geo.bundled import load_bali_units

    unit = next(u for u in load_bali_units() if u.level == "polsek")
    feature = {"type": "Feature", "properties": {"code": unit.code, "name": unit.name},
               "geometry": json.loads(json.dumps(unit.geometry.__geo_interface__))}
    shown = simplify_geojson(feature)["features"][0]["geometry"]
    vertices_before = sum(len(ring) for ring in feature["geometry"]["coordinates"])
    vertices_after = sum(len(ring) for ring in shown["coordinates"])
    assert vertices_after < 0.75 * vertices_before
    assert shown["type"] == "Polygon"
    html = render_locate_map(_result(), tile_url=DEFAULT_TILE_URL, unit_geojson=feature)
    assert len(html.encode("utf-8")) < 60_000
