"""Tests of the geodesic helpers (geo_service.geo.distance)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point, box

from geo_service.geo.distance import circle, distance_m, distance_to_geometry_m, distances_m, lon_scale


def test_distance_m_known_values() -> None:
    # One degree of longitude on the equator is a / 360 * 2 pi on WGS 84.
    assert distance_m(0.0, 0.0, 1.0, 0.0) == pytest.approx(6378137.0 * math.pi / 180.0, abs=1e-3)
    assert distance_m(115.2, -8.6, 115.2, -8.6) == 0.0
    assert distance_m(115.2, -8.6, 115.3, -8.7) == pytest.approx(distance_m(115.3, -8.7, 115.2, -8.6))
    got = distances_m([115.0, 115.0], [-8.0, -8.0], [115.0, 116.0], [-9.0, -8.0])
    assert got.tolist() == pytest.approx([distance_m(115, -8, 115, -9), distance_m(115, -8, 116, -8)])
    assert distances_m([], [], [], []).shape == (0,)


def test_lon_scale_matches_geodesics() -> None:
    for lat in (-10.0, -8.5, 0.0, 5.0):
        east = distance_m(115.0, lat, 115.001, lat)
        north = distance_m(115.0, lat - 0.0005, 115.0, lat + 0.0005)
        assert east / north == pytest.approx(lon_scale(lat), rel=1e-5)


def test_distance_to_geometry() -> None:
    sq = box(115.0, -9.0, 116.0, -8.0)
    assert distance_to_geometry_m(115.5, -8.5, sq) == 0.0
    assert distance_to_geometry_m(115.0, -8.5, sq) == 0.0          # on the border
    assert distance_to_geometry_m(114.9, -8.5, sq) == pytest.approx(distance_m(114.9, -8.5, 115.0, -8.5), rel=1e-6)
    # A slanted line: compare with brute force over a densely sampled copy.
    line = LineString([(115.0, -8.0), (115.4, -8.3), (115.9, -8.35)])
    dense = shapely.get_coordinates(shapely.segmentize(line, 1e-5))
    for lon, lat in [(115.2, -8.4), (115.7, -8.1), (114.8, -7.9)]:
        brute = min(distances_m(np.full(len(dense), lon), np.full(len(dense), lat), dense[:, 0], dense[:, 1]))
        assert distance_to_geometry_m(lon, lat, line) == pytest.approx(brute, rel=1e-4, abs=0.5)
    with pytest.raises(ValueError):
        distance_to_geometry_m(115.0, -8.0, Point())


def test_circle() -> None:
    c = circle(115.2, -8.6, 1000.0)
    assert c.is_valid and c.exterior.is_ccw and len(c.exterior.coords) == 65
    xy = shapely.get_coordinates(c)
    d = distances_m(np.full(len(xy), 115.2), np.full(len(xy), -8.6), xy[:, 0], xy[:, 1])
    assert d == pytest.approx(1000.0, abs=1e-6)
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32750", always_xy=True)
    area = shapely.transform(c, lambda p: np.column_stack(to_utm.transform(p[:, 0], p[:, 1]))).area
    assert area == pytest.approx(math.pi * 1000.0**2, rel=0.005)
    for bad in (0.0, -5.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            circle(115.2, -8.6, bad)


@pytest.mark.parametrize("module", ["distance", "stations", "index", "geometry"])
def test_docstring_examples_run(module: str) -> None:
    import doctest
    import importlib

    mod = importlib.import_module(f"geo_service.geo.{module}")
    result = doctest.testmod(mod)
    assert result.failed == 0 and result.attempted > 0


def test_circle_ring_is_geod_fwd_of_the_azimuths() -> None:
    """The ring (pyproj's in-place direct problem) holds exactly the points of the public ``Geod.fwd``."""
    from geo_service.geo import distance

    rng = np.random.default_rng(3)
    for lon, lat, r in zip(rng.uniform(-180, 180, 300), rng.uniform(-89, 89, 300),
                           np.exp(rng.uniform(0.0, np.log(2e6), 300)), strict=True):
        ring = distance.circle_ring(float(lon), float(lat), float(r))
        lons, lats, _ = distance.GEOD.fwd(np.full(64, lon), np.full(64, lat), distance._azimuths(64),
                                          np.full(64, r))
        assert np.array_equal(ring[:-1, 0], lons) and np.array_equal(ring[:-1, 1], lats)
        assert np.array_equal(ring[-1], ring[0])
