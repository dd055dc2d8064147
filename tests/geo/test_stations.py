"""Tests of the station index and the bundled SAMPLE station file (geo_service.geo.stations)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from geo_service.errors import BoundaryFileError
from geo_service.geo.bundled import load_bali_units
from geo_service.geo.distance import distance_m
from geo_service.geo.stations import (
    SAMPLE_STATIONS_PATH,
    Station,
    StationIndex,
    load_stations_geojson,
    station_from_feature,
)


@pytest.fixture(scope="module")
def stations() -> list[Station]:
    return load_stations_geojson()


def test_sample_file_is_clearly_marked(stations: list[Station]) -> None:
    fc = json.loads(SAMPLE_STATIONS_PATH.read_text(encoding="utf-8"))
    assert "NOT REAL" in fc["note"] and "No public list" in fc["note"]
    assert all(f["properties"]["sample"] is True for f in fc["features"])
    assert all(s.sample and s.name.startswith("CONTOH ") and s.name.endswith("(sampel)") for s in stations)
    assert all(s.phone is None for s in stations)
    polsek = {u.code for u in load_bali_units() if u.level == "polsek"}
    assert {s.unit_code for s in stations} == polsek and len(stations) == len(polsek)


def test_nearest_matches_brute_force(stations: list[Station]) -> None:
    idx = StationIndex.build(stations)
    rng = np.random.default_rng(5)
    for lon, lat in zip(rng.uniform(114.2, 116.0, 300), rng.uniform(-9.2, -7.8, 300), strict=True):
        brute = sorted((distance_m(lon, lat, s.lon, s.lat), s.code) for s in stations)[:3]
        got = idx.nearest(lon, lat, 3)
        assert [h.station.code for h in got] == [c for _, c in brute]
        assert [h.distance_m for h in got] == pytest.approx([d for d, _ in brute], abs=1e-6)


def test_prefer_unit_comes_first(stations: list[Station]) -> None:
    idx = StationIndex.build(stations)
    far = idx.nearest(115.2, -8.65, 3, prefer_unit="51.08.01")   # Gerokgak station, far west
    assert far[0].station.unit_code == "51.08.01" and len(far) == 3
    assert far[1].distance_m <= far[2].distance_m
    plain = idx.nearest(115.2, -8.65, 3)
    assert far[1:] == plain[:2]
    near = idx.nearest(115.2, -8.65, 3, prefer_unit=plain[1].station.unit_code)
    assert near[0] == plain[1] and near[1:] == [plain[0], plain[2]]
    assert idx.nearest(115.2, -8.65, 3, prefer_unit="no-such-unit") == plain


def test_edge_cases(stations: list[Station]) -> None:
    idx = StationIndex.build(stations[:2])
    assert len(idx.nearest(115.0, -8.0, 10)) == 2
    assert idx.nearest(115.0, -8.0, 0) == []
    assert StationIndex.build([]).nearest(115.0, -8.0, 3) == []
    with pytest.raises(ValueError, match="duplicate"):
        StationIndex.build([stations[0], stations[0]])
    with pytest.raises(ValueError):
        StationIndex.build([Station("x", "x", "u", 500.0, -8.0)])
    assert idx.has_unit(stations[0].unit_code) and not idx.has_unit("zz")
    assert idx.for_unit(stations[0].unit_code) == (stations[0],)


def test_feature_parsing() -> None:
    with pytest.raises(BoundaryFileError):
        station_from_feature({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": []},
                              "properties": {}})
    with pytest.raises(BoundaryFileError):
        station_from_feature({"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]},
                              "properties": {"name": "no code"}})
    s = station_from_feature({"type": "Feature", "geometry": {"type": "Point", "coordinates": [115, -8]},
                              "properties": {"code": "A", "name": "B", "unit_code": "C", "phone": 110}})
    assert s.phone == "110" and s.sample is False
    assert s.to_dict()["lat"] == -8.0


def test_compiled_preselection_is_the_numpy_one(stations: list[Station]) -> None:
    """The compiled pre-selection keeps exactly the stations the numpy one keeps (the oracle), for
    every k, on the bundled sample and on a made-up set with stations at equal distances."""
    rng = np.random.default_rng(3)
    grid = [Station(f"G{i}", "g", f"u{i % 4}", 115.0 + (i % 5) * 0.01, -8.5 + (i // 5) * 0.01) for i in range(25)]
    twins = [Station(f"T{i}", "t", "u", 115.2, -8.6) for i in range(4)]
    for index in (StationIndex.build(stations), StationIndex.build(grid + twins)):
        lons, lats = rng.uniform(114.3, 115.9, 3000), rng.uniform(-9.0, -7.9, 3000)
        lons[:50], lats[:50] = 115.02, -8.48  # equidistant from grid neighbours
        for i, (lon, lat) in enumerate(zip(lons.tolist(), lats.tolist(), strict=True)):
            k = 1 + i % 6
            assert index._candidates(lon, lat, k) == index._candidates_numpy(lon, lat, k), (lon, lat, k)
