"""The offline reference map's tiles (geo/basemap.py) on hand-made shapes and on Bali."""

from __future__ import annotations

import doctest

import pytest
from shapely.geometry import box

from geo_service.geo import basemap
from geo_service.geo.basemap import (
    DESA_FROM_Z,
    POLRES_FROM_Z,
    POLSEK_FROM_Z,
    Outline,
    ReferenceMap,
    tile_bounds,
    tile_of,
)


def test_docstring_examples_run() -> None:
    result = doctest.testmod(basemap)
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.parametrize(("lon", "lat", "z"), [(115.2, -8.6, 10), (95.3, 5.5, 7), (140.7, -2.5, 12), (0.0, 0.0, 0)])
def test_a_point_lies_in_its_tile(lon: float, lat: float, z: int) -> None:
    x, y = tile_of(lon, lat, z)
    min_lon, min_lat, max_lon, max_lat = tile_bounds(z, x, y)
    assert min_lon <= lon <= max_lon and min_lat <= lat <= max_lat


# Two Polsek sharing an edge at lon 115.2, one Polres around both, one Polda (land), one village.
WEST = box(115.1, -8.7, 115.2, -8.6)
EAST = box(115.2, -8.7, 115.3, -8.6)
OUTLINES = [
    Outline("polda", "Polda Uji", box(115.1, -8.7, 115.3, -8.6), land=True),
    Outline("polres", "Polres Uji", box(115.1, -8.7, 115.3, -8.6)),
    Outline("polsek", "Polsek Barat", WEST),
    Outline("polsek", "Polsek Timur", EAST),
    Outline("desa", "Desa Kecil", box(115.21, -8.69, 115.22, -8.68)),
]


def _tile(z: int) -> dict:
    x, y = tile_of(115.215, -8.685, z)
    return ReferenceMap(OUTLINES).tile(z, x, y)


def test_levels_appear_with_the_zoom() -> None:
    assert set(_tile(POLRES_FROM_Z - 1)["lines"]) == {"polda"}
    assert set(_tile(POLRES_FROM_Z)["lines"]) == {"polda", "polres"}
    assert set(_tile(POLSEK_FROM_Z)["lines"]) == {"polda", "polres", "polsek"}
    assert set(_tile(DESA_FROM_Z)["lines"]) == {"polda", "polres", "polsek", "desa"}


def test_labels_name_the_finest_level_drawn() -> None:
    assert {label[2] for label in _tile(POLRES_FROM_Z - 1)["labels"]} == {"Polda Uji"}
    assert {label[2] for label in _tile(POLSEK_FROM_Z)["labels"]} == {"Polsek Barat", "Polsek Timur"}
    assert {label[2] for label in _tile(16)["labels"]} == {"Desa Kecil"}


def test_land_is_filled_in_tile_pixels_and_lines_stay_near_the_tile() -> None:
    t = _tile(12)
    assert t["land"] and all(len(ring) >= 8 for rings in t["land"] for ring in rings)
    for flat in [v for lines in t["lines"].values() for line in lines for v in line]:
        assert -basemap.MARGIN_PX - 1 <= flat <= basemap.TILE_PX + basemap.MARGIN_PX + 1


def test_tiles_far_away_or_invalid_are_empty() -> None:
    ref = ReferenceMap(OUTLINES)
    x, y = tile_of(100.0, 3.0, 10)
    assert ref.tile(10, x, y) == {"land": [], "lines": {}, "labels": []}
    assert ref.tile(30, 0, 0) == {"land": [], "lines": {}, "labels": []}
    assert ref.tile(3, 9, 0) == {"land": [], "lines": {}, "labels": []}
    assert ReferenceMap([]).tile(5, 1, 1) == {"land": [], "lines": {}, "labels": []}


def test_a_close_up_still_names_the_area_it_shows() -> None:
    ref = ReferenceMap(OUTLINES)
    z = 17
    x, y = tile_of(115.13, -8.63, z)  # inside Polsek Barat, far from its label point
    x, y = x - x % 2, y - y % 2
    min_lon, min_lat, max_lon, max_lat = tile_bounds(z, x, y)
    assert WEST.contains(box(min_lon, min_lat, max_lon, max_lat))
    # No village covers it and no label point is near: the Polsek is named at the tile's centre.
    assert [label[2:] for label in ref.tile(z, x, y)["labels"]] == [["Polsek Barat", "polsek"]]
    assert ref.tile(z, x + 1, y)["labels"] == []  # every other tile only
