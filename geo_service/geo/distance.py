"""Geodesic helpers: point-to-point and point-to-geometry distances, and uncertainty circles.

Every distance is a geodesic distance in metres on the WGS 84 ellipsoid
(:data:`geo_service.geo.geometry.GEOD`).
Coordinates are ``(lon, lat)`` in EPSG:4326.

Point-to-geometry distance is computed in two steps: find the nearest point of the
geometry in a local frame where longitudes are scaled by :func:`lon_scale` (so one unit
is the same length east-west and north-south at the query point), then measure the
geodesic distance to that point. The distance returned is therefore an exact geodesic
distance to a point of the geometry; the choice of that point is accurate to the
variation of the scale across the distance (well under 0.1 % within a 12 nautical-mile
coastal band at Indonesian latitudes).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry

from geo_service.geo.geometry import GEOD

#: Number of vertices of the ring returned by :func:`circle`.
CIRCLE_VERTICES = 64

_E2 = GEOD.es  # first eccentricity squared of WGS 84


def lon_scale(lat: float) -> float:
    """Length of a degree of longitude over a degree of latitude at ``lat`` (WGS 84).

    Multiplying longitudes by this factor makes a small neighbourhood of ``lat``
    isotropic: ``cos(lat) * (1 - e² sin²(lat)) / (1 - e²)``.

    Examples
    --------
    >>> round(lon_scale(0.0), 5), round(lon_scale(-8.5), 5)
    (1.00674, 0.99554)
    """
    s = math.sin(math.radians(lat))
    return math.cos(math.radians(lat)) * (1.0 - _E2 * s * s) / (1.0 - _E2)


def lon_scales(lats: ArrayLike) -> NDArray[np.float64]:
    """Vectorised :func:`lon_scale`.

    Examples
    --------
    >>> lon_scales([0.0, -8.5]).round(5).tolist()
    [1.00674, 0.99554]
    """
    rad = np.radians(np.asarray(lats, dtype=float))
    s2 = np.sin(rad) ** 2
    return np.asarray(np.cos(rad) * (1.0 - _E2 * s2) / (1.0 - _E2), dtype=float)


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Geodesic distance in metres between two points on WGS 84.

    Parameters
    ----------
    lon1, lat1, lon2, lat2 : float
        Longitudes and latitudes in degrees (EPSG:4326).

    Returns
    -------
    float
        Distance in metres.

    Examples
    --------
    >>> round(distance_m(115.0, -8.0, 115.0, -9.0))
    110599
    """
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def distances_m(lons1: ArrayLike, lats1: ArrayLike, lons2: ArrayLike, lats2: ArrayLike) -> NDArray[np.float64]:
    """Vectorised geodesic distances in metres between pairs of points.

    Parameters
    ----------
    lons1, lats1, lons2, lats2 : array_like
        Coordinates in degrees; broadcast against each other.

    Returns
    -------
    numpy.ndarray
        Distances in metres, one per pair.

    Examples
    --------
    >>> distances_m([115.0, 115.0], [-8.0, -8.0], [115.0, 115.0], [-9.0, -8.0]).round().tolist()
    [110599.0, 0.0]
    """
    a, b, c, d = np.broadcast_arrays(
        np.asarray(lons1, dtype=float), np.asarray(lats1, dtype=float),
        np.asarray(lons2, dtype=float), np.asarray(lats2, dtype=float),
    )
    if a.size == 0:
        return np.zeros(a.shape)
    return np.asarray(GEOD.inv(a.ravel(), b.ravel(), c.ravel(), d.ravel())[2], dtype=float).reshape(a.shape)


def scale_lon(geom: BaseGeometry, factor: float) -> BaseGeometry:
    """Return ``geom`` with every longitude multiplied by ``factor`` (a local equal-scale frame).

    Examples
    --------
    >>> scale_lon(Point(100.0, -8.0), 0.5).wkt
    'POINT (50 -8)'
    """
    return shapely.transform(geom, lambda xy: xy * np.array([factor, 1.0]))


def nearest_point_lonlat(lon: float, lat: float, geom: BaseGeometry) -> tuple[float, float]:
    """Point of ``geom`` nearest to ``(lon, lat)`` in the local frame scaled by :func:`lon_scale`.

    Examples
    --------
    >>> nearest_point_lonlat(115.0, -8.0, Point(115.5, -8.0))
    (115.5, -8.0)
    """
    k = lon_scale(lat)
    scaled = scale_lon(geom, k)
    line = shapely.shortest_line(scaled, Point(lon * k, lat))
    x, y = shapely.get_coordinates(line)[0]
    return float(x / k), float(y)


def distance_to_geometry_m(lon: float, lat: float, geom: BaseGeometry) -> float:
    """Geodesic distance in metres from ``(lon, lat)`` to the nearest point of ``geom`` (0 when covered).

    Parameters
    ----------
    lon, lat : float
        The point, in degrees.
    geom : shapely geometry
        Any non-empty geometry in EPSG:4326.

    Returns
    -------
    float
        0.0 when ``geom`` covers the point, else the geodesic distance to its nearest point.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> distance_to_geometry_m(115.5, -8.5, box(115.0, -9.0, 116.0, -8.0))
    0.0
    >>> round(distance_to_geometry_m(114.9, -8.5, box(115.0, -9.0, 116.0, -8.0)))
    11010
    """
    if geom.is_empty:
        raise ValueError("distance to an empty geometry is undefined")
    if shapely.intersects_xy(geom, lon, lat):
        return 0.0
    nlon, nlat = nearest_point_lonlat(lon, lat, geom)
    return distance_m(lon, lat, nlon, nlat)


def circle_ring(lon: float, lat: float, radius_m: float, vertices: int = CIRCLE_VERTICES) -> NDArray[np.float64]:
    """The closed ring of :func:`circle` as a ``(vertices + 1, 2)`` array of ``(lon, lat)``, without a Polygon.

    The same vertices as :func:`circle` (``Geod.fwd`` over the azimuths), counter-clockwise, the first
    repeated at the end. They come from the compiled direct problem
    (:func:`geo_service.geo.geodesic_kernels.ring`), whose longitudes and latitudes are bit for bit
    pyproj's (tests/geo/test_geodesic_kernel.py); :func:`circle_ring_pyproj` is the same ring from
    pyproj, the fallback where the kernel cannot be loaded and the tests' oracle.

    Examples
    --------
    >>> ring = circle_ring(115.2, -8.6, 1000.0)
    >>> ring.shape, bool((ring[0] == ring[-1]).all())
    ((65, 2), True)
    >>> bool((ring == circle_ring_pyproj(115.2, -8.6, 1000.0)).all())
    True
    """
    if not radius_m > 0 or not math.isfinite(radius_m):
        raise ValueError(f"radius_m must be a positive finite number, got {radius_m!r}")
    if vertices < 8:
        raise ValueError("a circle needs at least 8 vertices")
    kernel = _ring_kernel()
    if kernel is None:
        return circle_ring_pyproj(lon, lat, radius_m, vertices)
    # Floats: a Python int would compile an int64 variant of the kernel mid-request.
    return kernel(float(lon), float(lat), float(radius_m), _azimuths(vertices))  # type: ignore[no-any-return]


def circle_ring_pyproj(lon: float, lat: float, radius_m: float,
                       vertices: int = CIRCLE_VERTICES) -> NDArray[np.float64]:
    """:func:`circle_ring` from pyproj's direct problem (one ``Geod.fwd`` over the azimuths).

    Examples
    --------
    >>> circle_ring_pyproj(115.2, -8.6, 1000.0).shape
    (65, 2)
    """
    if not radius_m > 0 or not math.isfinite(radius_m):
        raise ValueError(f"radius_m must be a positive finite number, got {radius_m!r}")
    if vertices < 8:
        raise ValueError("a circle needs at least 8 vertices")
    buf = np.empty((4, vertices))
    buf[0].fill(float(lon))
    buf[1].fill(float(lat))
    buf[2] = _azimuths(vertices)
    buf[3].fill(float(radius_m))
    if _GEOD_FWD_IN_PLACE is not None:
        # pyproj's compiled direct problem on our own contiguous float64 rows, in place: what
        # ``Geod.fwd`` calls after copying each argument (a quarter of a ring's cost; the same numbers,
        # tests/geo/test_distance.py compares them).
        _GEOD_FWD_IN_PLACE(buf[0], buf[1], buf[2], buf[3], radians=False, return_back_azimuth=False)
        lons, lats = buf[0], buf[1]
    else:
        lons, lats, _ = GEOD.fwd(buf[0], buf[1], buf[2], buf[3], return_back_azimuth=False)
    ring = np.empty((vertices + 1, 2))
    ring[:vertices, 0], ring[:vertices, 1] = lons, lats
    ring[vertices] = ring[0]
    return ring


def circle(lon: float, lat: float, radius_m: float, vertices: int = CIRCLE_VERTICES) -> Polygon:
    """Polygon approximating the geodesic circle of ``radius_m`` around ``(lon, lat)``.

    The ring joins ``vertices`` points placed on the circle with ``Geod.fwd``
    (:func:`circle_ring`); its area is slightly below the true circle's (about 0.16 % for 64 vertices).

    Parameters
    ----------
    lon, lat : float
        Centre, in degrees.
    radius_m : float
        Radius in metres; must be positive.
    vertices : int
        Number of ring vertices (at least 8).

    Returns
    -------
    shapely.geometry.Polygon
        Counter-clockwise ring in EPSG:4326.

    Examples
    --------
    >>> c = circle(115.2, -8.6, 1000.0)
    >>> len(c.exterior.coords), round(distance_m(115.2, -8.6, *c.exterior.coords[0]))
    (65, 1000)
    """
    return shapely.polygons(circle_ring(lon, lat, radius_m, vertices))  # type: ignore[no-any-return]


#: ``Geod._fwd`` (pyproj's in-place direct problem), when this pyproj has it; else the public ``fwd``.
_GEOD_FWD_IN_PLACE = getattr(GEOD, "_fwd", None)


@lru_cache(maxsize=1)
def _ring_kernel() -> Callable[..., NDArray[np.float64]] | None:
    """``geodesic_kernels.ring`` (numba), imported at the first circle: the modules that only measure
    distances (coords, validate, maps) do not load numba. The index build draws a circle, so the kernel
    is imported and loaded (or compiled) there, before any request. None where it cannot be imported
    (pyproj then places the vertices)."""
    try:
        from geo_service.geo.geodesic_kernels import ring
    except ImportError:  # pragma: no cover - numba is a dependency
        return None
    return ring  # type: ignore[no-any-return]


@lru_cache(maxsize=8)
def _azimuths(vertices: int) -> np.ndarray:
    """Azimuths clockwise from north, reversed so that the ring is counter-clockwise (RFC 7946)."""
    azimuths = np.linspace(360.0, 0.0, vertices, endpoint=False)
    azimuths.flags.writeable = False
    return azimuths
