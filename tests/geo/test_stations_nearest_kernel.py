"""StationIndex.nearest (one compiled call: candidates, geodesic distances, order, preferred unit first)
returns exactly the list of its pyproj oracle ``_nearest_pyproj`` (GEOD.inv per candidate, ``sorted`` on
(distance, code, position)): the same stations in the same order with the same float distances, bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from geo_service.geo.nearest_kernels import nearest_stations
from geo_service.geo.stations import Station, StationHit, StationIndex, load_stations_geojson


def _key(hits: list[StationHit]) -> list[tuple[Station, int, type]]:
    return [(h.station, int(np.float64(h.distance_m).view(np.int64)), type(h.distance_m)) for h in hits]


def _assert_same(idx: StationIndex, lon: float, lat: float, k: int, prefer_unit: str | None) -> None:
    got = idx.nearest(lon, lat, k, prefer_unit)
    want = idx._nearest_pyproj(lon, lat, k, prefer_unit)
    assert _key(got) == _key(want), (lon, lat, k, prefer_unit)


@pytest.fixture(scope="module")
def sample_index() -> StationIndex:
    return StationIndex.build(load_stations_geojson())


def test_sample_stations_random_points(sample_index: StationIndex) -> None:
    rng = np.random.default_rng(2026)
    units = [None, "no-such-unit", *sorted({s.unit_code for s in sample_index.stations})]
    stations = sample_index.stations
    for j in range(3000):
        if j % 10 == 0:  # on a station, or a station's exact coordinates as ints where they are whole
            s = stations[rng.integers(len(stations))]
            lon, lat = s.lon, s.lat
        else:
            lon, lat = float(rng.uniform(114.0, 116.2)), float(rng.uniform(-9.4, -7.6))
        k = int(rng.choice([1, 2, 3, 3, 3, 5, 10, len(stations), len(stations) + 3]))
        _assert_same(sample_index, lon, lat, k, units[rng.integers(len(units))])


def test_sample_stations_far_points(sample_index: StationIndex) -> None:
    """Points across Indonesia and the globe (long geodesics, near-antipodal ones)."""
    rng = np.random.default_rng(3)
    units = [None, sample_index.stations[0].unit_code, sample_index.stations[-1].unit_code]
    for lon, lat in zip(np.r_[rng.uniform(95.0, 141.0, 300), rng.uniform(-180.0, 180.0, 300)],
                        np.r_[rng.uniform(-11.0, 6.0, 300), rng.uniform(-90.0, 90.0, 300)], strict=True):
        _assert_same(sample_index, float(lon), float(lat), 3, units[int(lon * 7) % 3])
    for lon, lat in ((-64.8, 8.4), (-65.0, 8.3), (180.0, 90.0), (0.0, -90.0), (-180.0, 0.0)):
        _assert_same(sample_index, lon, lat, 3, None)


def _synthetic(rng: np.random.Generator, n: int, spread: float, dup: float) -> list[Station]:
    """``n`` stations around Bali (most of the globe for a large ``spread``), codes in an order
    unrelated to their positions, a fraction ``dup`` at another station's coordinates (distance ties)."""
    lons = 115.0 + rng.uniform(-spread, spread, n)
    lats = np.clip(-8.4 + rng.uniform(-spread, spread, n), -90.0, 90.0)
    lons = (lons + 180.0) % 360.0 - 180.0
    for i in range(1, n):
        if rng.random() < dup:
            j = int(rng.integers(i))
            lons[i], lats[i] = lons[j], lats[j]
    codes = [f"S{int(c):05d}" for c in rng.permutation(n * 3)[:n]]
    units = [f"u{int(u)}" for u in rng.integers(0, max(1, n // 3), n)]
    return [Station(codes[i], f"N{i}", units[i], float(lons[i]), float(lats[i])) for i in range(n)]


@pytest.mark.parametrize("seed", range(12))
def test_random_station_sets_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.choice([1, 2, 3, 4, 7, 20, 60, 200]))
    spread = float(rng.choice([0.01, 0.5, 3.0, 170.0]))
    idx = StationIndex.build(_synthetic(rng, n, spread, dup=0.3))
    units = [None, "absent", *sorted({s.unit_code for s in idx.stations})]
    for j in range(250):
        if j % 4 == 0:  # exactly on a (possibly duplicated) station: distance 0, ties
            s = idx.stations[int(rng.integers(n))]
            lon, lat = s.lon, s.lat
        else:
            lon = float(((115.0 + rng.uniform(-spread, spread) * 1.2) + 180.0) % 360.0 - 180.0)
            lat = float(np.clip(-8.4 + rng.uniform(-spread, spread) * 1.2, -90.0, 90.0))
        k = int(rng.integers(-1, n + 3))
        _assert_same(idx, lon, lat, k, units[int(rng.integers(len(units)))])


def test_duplicate_codes_tie_by_position() -> None:
    """The constructor (not ``build``) accepts duplicate codes: ties then order by position, as sorted()."""
    stations = [Station("B", "1", "u1", 115.0, -8.0), Station("A", "2", "u2", 115.0, -8.0),
                Station("B", "3", "u1", 115.0, -8.0), Station("A", "4", "u1", 115.1, -8.0)]
    idx = StationIndex(stations)
    for prefer in (None, "u1", "u2"):
        for k in range(0, 6):
            _assert_same(idx, 115.0, -8.0, k, prefer)
            _assert_same(idx, 115.05, -8.0, k, prefer)
    assert [h.station.name for h in idx.nearest(115.0, -8.0, 4)] == ["2", "1", "3", "4"]


def test_edge_inputs() -> None:
    assert StationIndex([]).nearest(115.0, -8.0, 3) == []
    idx = StationIndex.build([Station("A", "A", "u1", 115.0, -8.0), Station("B", "B", "u2", 115.1, -8.0)])
    assert idx.nearest(115.0, -8.0, 0) == [] and idx.nearest(115.0, -8.0, -2) == []
    for lon, lat in ((115.0, -8.0), (math.nan, -8.0), (115.0, math.inf), (115.0, 91.0), (-math.inf, 0.0),
                     (400.0, -8.0), (-180.0, -90.0)):
        for prefer in (None, "u2"):
            _assert_same(idx, lon, lat, 3, prefer)
    # More stations than k: a NaN point has no candidate at all (an empty list, or the preferred unit's)
    many = StationIndex.build([Station(c, c, f"u{i % 2}", 115.0 + i / 10, -8.0) for i, c in enumerate("ABCDE")])
    for lon, lat in ((math.nan, -8.0), (115.0, math.nan), (math.nan, math.nan), (math.inf, -8.0)):
        for prefer in (None, "u0", "u1", "absent"):
            _assert_same(many, lon, lat, 2, prefer)
    assert many.nearest(math.nan, -8.0, 2) == []


def test_ints_reach_the_kernel_as_floats() -> None:
    """A Python int is converted before the kernel: no int64 variant is compiled mid-request."""
    idx = StationIndex.build([Station("A", "A", "u1", 115.0, -8.0), Station("B", "B", "u2", 116.0, -8.0),
                              Station("C", "C", "u1", 114.0, -9.0), Station("D", "D", "u3", 115.0, -7.0)])
    before = len(nearest_stations.signatures)
    assert _key(idx.nearest(115, -8, 3)) == _key(idx._nearest_pyproj(115.0, -8.0, 3))
    assert _key(idx.nearest(115, -8, 2, prefer_unit="u3")) == _key(idx._nearest_pyproj(115.0, -8.0, 2, "u3"))
    assert len(nearest_stations.signatures) == before
    assert all(sig[2].name == "float64" and sig[6].name == "float64" and sig[7].name == "float64"
               for sig in nearest_stations.signatures)
    assert _key(idx.nearest(115, -8, np.int64(2))) == _key(idx._nearest_pyproj(115.0, -8.0, 2))
    assert _key(idx.nearest(115, -8, 10**20, "u1")) == _key(idx._nearest_pyproj(115.0, -8.0, 10**20, "u1"))
    assert len(nearest_stations.signatures) == before
