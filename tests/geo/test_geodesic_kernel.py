"""geo/geodesic_kernels.py: the compiled direct problem returns pyproj's ``Geod.fwd`` longitudes and
latitudes bit for bit (same values, same signs of zero), so it may place the uncertainty circles' vertices.

The comparison is on the 64-bit patterns (``view(np.int64)``), which also tells -0.0 from 0.0.
bench/check_geodesic_kernel.py runs the global comparison on millions of inputs.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from geo_service.geo import distance
from geo_service.geo.geodesic_kernels import direct, direct_many, ring
from geo_service.geo.geometry import GEOD


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.ascontiguousarray(a, dtype=np.float64), np.ascontiguousarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True)) and bool(
        np.array_equal(a.view(np.int64), b.view(np.int64)))


def _assert_fwd_equal(lons: np.ndarray, lats: np.ndarray, azis: np.ndarray, dists: np.ndarray) -> None:
    got_lon, got_lat = direct_many(lons, lats, azis, dists)
    want_lon, want_lat, _ = GEOD.fwd(lons, lats, azis, dists)
    for name, got, want in (("lon", got_lon, want_lon), ("lat", got_lat, want_lat)):
        bad = np.flatnonzero(got.view(np.int64) != want.view(np.int64))
        assert bad.size == 0, (
            f"{bad.size} {name} differ, e.g. fwd({lons[bad[0]]!r}, {lats[bad[0]]!r}, {azis[bad[0]]!r}, "
            f"{dists[bad[0]]!r}): {got[bad[0]]!r} != {want[bad[0]]!r}")


def random_inputs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``n`` (lon, lat, azimuth, distance) across the globe: lat in [-90, 90] and lon in [-180, 180]
    with the exact bounds mixed in, azimuths in [-360, 720] (some whole or quarter degrees), distances
    in [0, 20,000 km] (some tiny)."""
    rng = np.random.default_rng(seed)
    lons = rng.uniform(-180.0, 180.0, n)
    lats = rng.uniform(-90.0, 90.0, n)
    azis = rng.uniform(-360.0, 720.0, n)
    dists = rng.uniform(0.0, 2.0e7, n)
    k = n // 20
    lats[rng.integers(0, n, k)] = rng.choice([-90.0, 90.0, 0.0, -0.0], k)
    lons[rng.integers(0, n, k)] = rng.choice([-180.0, 180.0, 0.0, -0.0], k)
    whole = rng.integers(0, n, k)
    azis[whole] = rng.integers(-4 * 360, 4 * 720, k) / 4.0
    tiny = rng.integers(0, n, k)
    dists[tiny] = np.exp(rng.uniform(np.log(1e-9), np.log(1e3), k))
    dists[rng.integers(0, n, k // 10)] = 0.0
    return lons, lats, azis, dists


def test_global_random_inputs_match_pyproj_bit_for_bit() -> None:
    _assert_fwd_equal(*random_inputs(200_000, seed=20261201))


def test_edge_cases_match_pyproj_bit_for_bit() -> None:
    lats = [-90.0, -89.99999999, -45.0, -1e-300, -0.0, 0.0, 1e-12, 45.0, 89.999999, 90.0, -8.5]
    lons = [-180.0, -179.9999999, -90.0, -0.0, 0.0, 1e-300, 90.0, 179.9999999, 180.0, 115.2]
    azis = [0.0, -0.0, 90.0, 180.0, 270.0, 360.0, -90.0, -180.0, -270.0, -360.0, 450.0, 540.0, 630.0,
            720.0, 45.0, -45.0, 135.0, 1e-300, -1e-300, 1e-9, 179.99999999, 5.625, 354.375]
    dists = [0.0, -0.0, 1e-9, 1e-6, 0.01, 1.0, 1e3, 5e4, 1e6, 1e7, 2e7, 20003931.458625, 20003931.4586255,
             1.9e7]
    pts = np.array(list(itertools.product(lons, lats, azis, dists)), dtype=np.float64).T.copy()
    _assert_fwd_equal(pts[0], pts[1], pts[2], pts[3])


def test_scalar_direct_is_fwd() -> None:
    for args in ((115.2, -8.6, 30.0, 1000.0), (180.0, 90.0, -0.0, 0.0), (-180.0, 0.0, 90.0, 2e7)):
        lon, lat, _ = GEOD.fwd(*args)
        assert _same_bits(np.array(direct(*args)), np.array([lon, lat]))


def test_indonesian_rings_match_pyproj_bit_for_bit() -> None:
    """Rings as circle_ring draws them: centres across Indonesia, radii 1 cm .. 50 km, the 64 azimuths."""
    rng = np.random.default_rng(7)
    azimuths = distance._azimuths(64)
    for lon, lat, r in zip(rng.uniform(95.0, 141.0, 1500), rng.uniform(-11.0, 6.0, 1500),
                           np.exp(rng.uniform(np.log(0.01), np.log(5e4), 1500)), strict=True):
        got = ring(float(lon), float(lat), float(r), azimuths)
        lons, lats, _ = GEOD.fwd(np.full(64, lon), np.full(64, lat), azimuths, np.full(64, r))
        assert _same_bits(got[:-1, 0], lons) and _same_bits(got[:-1, 1], lats), (lon, lat, r)
        assert _same_bits(got[-1], got[0])


def random_rings(n: int, seed: int) -> list[tuple[float, float, float, int]]:
    """``n`` rings (lon, lat, radius, vertices) anywhere: the poles, the equator and the antimeridian
    mixed in, radii 1e-9 m .. 20,000 km, vertex counts whose azimuths pair exactly (8, 16, 64, 128)
    or not (12, 100, 360)."""
    rng = np.random.default_rng(seed)
    lons = rng.uniform(-180.0, 180.0, n)
    lats = rng.uniform(-90.0, 90.0, n)
    k = n // 10
    lats[rng.integers(0, n, k)] = rng.choice([-90.0, 90.0, 0.0, -0.0, 89.9999, -89.9999], k)
    lons[rng.integers(0, n, k)] = rng.choice([-180.0, 180.0, 0.0, -0.0, 179.9999, -179.9999], k)
    radii = np.exp(rng.uniform(np.log(1e-9), np.log(2e7), n))
    counts = rng.choice([8, 12, 16, 64, 64, 64, 100, 128, 360], n)
    return [(float(a), float(b), float(c), int(d)) for a, b, c, d in zip(lons, lats, radii, counts, strict=True)]


def test_rings_anywhere_match_pyproj_bit_for_bit() -> None:
    """The ring kernel's mirrored vertices (azimuth -a from a) are pyproj's too, anywhere."""
    for lon, lat, r, vertices in random_rings(1500, seed=11):
        azimuths = distance._azimuths(vertices)
        got = ring(lon, lat, r, azimuths)
        lons, lats, _ = GEOD.fwd(np.full(vertices, lon), np.full(vertices, lat), azimuths, np.full(vertices, r))
        assert _same_bits(got[:-1, 0], lons) and _same_bits(got[:-1, 1], lats), (lon, lat, r, vertices)


def test_edge_rings_match_pyproj_bit_for_bit() -> None:
    """Rings at the poles, on the equator and the antimeridian, with signed zeros, radius 0 and tiny."""
    for lon, lat, r, vertices in itertools.product(
            [-180.0, -0.0, 0.0, 180.0, 115.2, 1e-300], [-90.0, -0.0, 0.0, 90.0, -8.5, 89.99999999, 1e-300],
            [0.0, 1e-300, 1e-9, 0.01, 1.0, 5e4, 1e7, 2e7, 20003931.458625, 2.1e7], [8, 12, 64, 100, 360]):
        azimuths = distance._azimuths(vertices)
        got = ring(lon, lat, r, azimuths)
        lons, lats, _ = GEOD.fwd(np.full(vertices, lon), np.full(vertices, lat), azimuths, np.full(vertices, r))
        assert _same_bits(got[:-1, 0], lons) and _same_bits(got[:-1, 1], lats), (lon, lat, r, vertices)


@pytest.mark.parametrize("centre", [(115.2, -8.6), (180.0, 0.0), (-180.0, -0.0), (0.0, 90.0), (95.0, -11.0)])
@pytest.mark.parametrize("radius", [0.01, 1.0, 12_345.6, 50_000.0, 2e6])
def test_circle_ring_is_the_pyproj_ring(centre: tuple[float, float], radius: float) -> None:
    got = distance.circle_ring(*centre, radius)
    assert _same_bits(got, distance.circle_ring_pyproj(*centre, radius))


def test_circle_ring_takes_ints_as_floats() -> None:
    """A Python int reaches the kernel as a float (no int64 variant compiled in a request)."""
    assert _same_bits(distance.circle_ring(115, -8, 1000), distance.circle_ring_pyproj(115.0, -8.0, 1000.0))
    assert all(sig[0].name == "float64" and sig[2].name == "float64" for sig in ring.signatures)
