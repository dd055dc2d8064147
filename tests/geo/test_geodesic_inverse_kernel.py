"""geo/geodesic_kernels.py: the compiled inverse problem returns pyproj's ``Geod.inv`` (forward azimuth,
back azimuth, distance) bit for bit, so it may rank the nearest stations.

The comparison is on the 64-bit patterns (``view(np.int64)``), which also tells -0.0 from 0.0.
bench/check_geodesic_inverse_kernel.py runs the same comparison on millions of pairs of each kind.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from geo_service.geo.geodesic_kernels import inverse, inverse_distance, inverse_many
from geo_service.geo.geometry import GEOD

Pairs = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _log_uniform(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    return np.exp(rng.uniform(np.log(lo), np.log(hi), n))


def _signed(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    return x * rng.choice([-1.0, 1.0], x.shape[0])


def _wrap(lon: np.ndarray) -> np.ndarray:
    return (lon + 180.0) % 360.0 - 180.0


def pairs(kind: str, n: int, seed: int) -> Pairs:
    """``n`` pairs (lon1, lat1, lon2, lat2) of one kind (see :data:`KINDS`)."""
    rng = np.random.default_rng(seed)
    lon1 = rng.uniform(-180.0, 180.0, n)
    lat1 = rng.uniform(-90.0, 90.0, n)
    if kind == "global":
        lon2 = rng.uniform(-180.0, 180.0, n)
        lat2 = rng.uniform(-90.0, 90.0, n)
        k = n // 20
        for a, values in ((lat1, [-90.0, 90.0, 0.0, -0.0]), (lat2, [-90.0, 90.0, 0.0, -0.0]),
                          (lon1, [-180.0, 180.0, 0.0, -0.0]), (lon2, [-180.0, 180.0, 0.0, -0.0])):
            a[rng.integers(0, n, k)] = rng.choice(values, k)
        lon2[rng.integers(0, n, k)] = rng.uniform(-720.0, 720.0, k)  # unnormalised longitudes
    elif kind == "antipodal":  # nearly antipodal: the astroid start and the Newton/bisection iteration
        lat2 = -lat1 + _signed(rng, _log_uniform(rng, 1e-12, 1.0, n))
        lat2 = np.clip(lat2, -90.0, 90.0)
        lon2 = _wrap(lon1 + 180.0 + _signed(rng, _log_uniform(rng, 1e-12, 2.0, n)))
        exact = rng.integers(0, n, n // 10)
        lat2[exact] = -lat1[exact]
        lon2[exact[: n // 20]] = _wrap(lon1[exact[: n // 20]] + 180.0)
        small = rng.integers(0, n, n // 5)  # near the equator, where the antipodal region is widest
        lat1[small] = _signed(rng, _log_uniform(rng, 1e-9, 1.0, small.shape[0]))
        lat2[small] = -lat1[small] + _signed(rng, _log_uniform(rng, 1e-12, 0.1, small.shape[0]))
    elif kind == "equatorial":
        lat1 = rng.choice([0.0, -0.0], n)
        lat2 = rng.choice([0.0, -0.0], n)
        lon2 = rng.uniform(-180.0, 180.0, n)
        near = rng.integers(0, n, n // 4)  # within AngRound's 1/16-degree snapping of the equator
        lat1[near] = _signed(rng, _log_uniform(rng, 1e-300, 1e-10, near.shape[0]))
        lon2[rng.integers(0, n, n // 4)] = _wrap(lon1[:n // 4] + 180.0 - _log_uniform(rng, 1e-9, 1.0, n // 4))
    elif kind == "meridional":
        lon2 = np.where(rng.random(n) < 0.5, lon1, _wrap(lon1 + 180.0))
        lat2 = rng.uniform(-90.0, 90.0, n)
        same = rng.integers(0, n, n // 10)
        lat2[same] = lat1[same] + _signed(rng, _log_uniform(rng, 1e-12, 1e-3, same.shape[0]))
        lat2 = np.clip(lat2, -90.0, 90.0)
    elif kind == "poles":
        pole = rng.choice([-90.0, 90.0, -89.9999999999, 89.9999999999, -89.99, 90.0 - 1e-15], n)
        lat1 = np.where(rng.random(n) < 0.5, pole, lat1)
        lat2 = np.where(rng.random(n) < 0.5, -pole, rng.uniform(-90.0, 90.0, n))
        lat2 = np.where(rng.random(n) < 0.2, pole, lat2)
        lon2 = rng.uniform(-180.0, 180.0, n)
    elif kind == "identical":
        lon2, lat2 = lon1.copy(), lat1.copy()
        k = n // 10
        lat1[rng.integers(0, n, k)] = rng.choice([-90.0, 90.0, 0.0, -0.0], k)
        i = rng.integers(0, n, k)
        lat2[i] = lat1[i]
        wrap = rng.integers(0, n, k)  # the same point written with the other longitude
        lon2[wrap] = lon1[wrap] + rng.choice([-360.0, 360.0], k)
    elif kind == "tiny":  # separations of about 1e-12 degree
        lon2 = lon1 + _signed(rng, _log_uniform(rng, 1e-14, 1e-10, n)) * (rng.random(n) < 0.8)
        lat2 = np.clip(lat1 + _signed(rng, _log_uniform(rng, 1e-14, 1e-10, n)) * (rng.random(n) < 0.8),
                       -90.0, 90.0)
    elif kind == "indonesia":  # lat -11..6, lon 95..141, separations 0..500 km
        lon1 = rng.uniform(95.0, 141.0, n)
        lat1 = rng.uniform(-11.0, 6.0, n)
        dist = rng.uniform(0.0, 5e5, n)
        short = rng.integers(0, n, n // 5)
        dist[short] = _log_uniform(rng, 1e-3, 5e3, short.shape[0])
        lon2, lat2, _ = GEOD.fwd(lon1, lat1, rng.uniform(-180.0, 180.0, n), dist)
        zero = rng.integers(0, n, n // 50)
        lon2[zero], lat2[zero] = lon1[zero], lat1[zero]
    else:
        raise ValueError(kind)
    return lon1, lat1, lon2, lat2


#: The kinds of pairs the tests and the bench check draw.
KINDS = ("global", "antipodal", "equatorial", "meridional", "poles", "identical", "tiny", "indonesia")


def differences(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """Masks of the pairs whose forward azimuth, back azimuth or distance differ from pyproj's in any bit,
    and both answers."""
    got = inverse_many(lon1, lat1, lon2, lat2)
    want = GEOD.inv(lon1, lat1, lon2, lat2)
    masks = [g.view(np.int64) != w.view(np.int64) for g, w in zip(got, want, strict=True)]
    return masks[0], masks[1], masks[2], got, want


@pytest.mark.parametrize("kind", KINDS)
def test_pairs_match_pyproj_bit_for_bit(kind: str) -> None:
    n = 100_000 if kind == "global" else 25_000  # 275,000 pairs, about 120,000 of them global-like
    lon1, lat1, lon2, lat2 = pairs(kind, n, seed=20261201)
    d_az1, d_az2, d_s12, got, want = differences(lon1, lat1, lon2, lat2)
    for name, mask, g, w in zip(("azi1", "azi2", "s12"), (d_az1, d_az2, d_s12), got, want, strict=True):
        bad = np.flatnonzero(mask)
        assert bad.size == 0, (f"{kind}: {bad.size} {name} differ, e.g. inv({lon1[bad[0]]!r}, {lat1[bad[0]]!r}, "
                               f"{lon2[bad[0]]!r}, {lat2[bad[0]]!r}): {g[bad[0]]!r} != {w[bad[0]]!r}")


def test_edge_cases_match_pyproj_bit_for_bit() -> None:
    lats = [-90.0, -89.99999999, -45.0, -1e-300, -0.0, 0.0, 1e-12, 0.05, 45.0, 89.999999, 90.0, -8.5]
    lons = [-180.0, -179.9999999, -90.0, -0.0, 0.0, 1e-300, 90.0, 179.5, 179.9999999, 180.0, 115.2, 540.0]
    pts = np.array(list(itertools.product(lons, lats, [0.0, 180.0, 115.2], lats)), dtype=np.float64).T.copy()
    d_az1, d_az2, d_s12, _, _ = differences(*pts)
    assert not (d_az1.any() or d_az2.any() or d_s12.any())


def test_scalar_inverse_is_inv() -> None:
    for args in ((115.2, -8.6, 115.3, -8.61), (0.0, 0.0, 180.0, 0.0), (10.0, 30.0, -170.0, -30.0),
                 (115.0, -8.0, 115.0, -8.0), (0.0, 90.0, 10.0, -90.0)):
        want = np.array(GEOD.inv(*args))
        got = np.array(inverse(*args))
        assert np.array_equal(got.view(np.int64), want.view(np.int64)), args
        assert np.float64(inverse_distance(*args)).view(np.int64) == want[2:].view(np.int64)[0]


#: Inverse problems of GeographicLib's own regression tests (GeodSolve, as lat1 lon1 lat2 lon2) that
#: once failed somewhere: nearly antipodal pairs, unnormalised longitudes, equatorial antipodes.
GEODSOLVE = [
    (40.6, -73.8, 49.01666667, 2.55), (36.493349428792, 0.0, 36.49334942879201, 0.0000008),
    (56.320923501171, 0.0, -56.320923501171, 179.664747671772880215),
    (52.784459512564, 0.0, -52.784459512563990912, 179.634407464943777557),
    (48.522876735459, 0.0, -48.52287673545898293, 179.599720456223079643),
    (0.0, 539.0, 0.0, 181.0), (0.0, 0.0, 0.0, 179.0), (0.0, 0.0, 0.0, 179.5), (0.0, 0.0, 0.0, 180.0),
    (0.0, 0.0, 1.0, 180.0), (0.0, 0.0, -1.0, 180.0), (5.0, 0.00000000000001, 10.0, 180.0),
    (5.0, -0.00000000000001, 10.0, 180.0), (-0.0, -0.0, 0.0, 180.0), (0.0, 0.0, 1e-300, 180.0),
    (89.0, -180.0, -89.0, 0.0), (-0.0000000000000000001, 0.0, 0.0, 180.0), (90.0, 0.0, -90.0, 180.0),
    (54.1589, 15.3872, 54.1591, 15.3877), (20.001, 0.0, 20.001, 0.0), (90.0, 0.0, 90.0, 180.0),
]


@pytest.mark.parametrize("lat1, lon1, lat2, lon2", GEODSOLVE)
def test_geographiclib_regression_cases(lat1: float, lon1: float, lat2: float, lon2: float) -> None:
    want = np.array(GEOD.inv(lon1, lat1, lon2, lat2))
    got = np.array(inverse(lon1, lat1, lon2, lat2))
    assert np.array_equal(got.view(np.int64), want.view(np.int64)), (got, want)
