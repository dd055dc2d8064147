"""The rules of :mod:`geo_service.geo.validate` over arrays of plain points (the batch fast path).

A *plain* point is a pair of WGS 84 numbers with nothing else (no text, CRS, radius or unit
hint). :func:`fast_positions` says, in one numpy pass, which plain points the per-point path
(:func:`~geo_service.geo.validate.validate_coordinate`, then
:meth:`~geo_service.geo.index.JurisdictionIndex.locate`) would answer ``valid``, inside one
leaf, with no flag and confidence 1, and in which leaf; every other point must take that
per-point path. Each test is the array form of a scalar rule and uses the scalar rule's own
constant, so one change cannot miss the other:

1. finite, ``|lat| <=`` :data:`MAX_ABS_LAT`, not ``(0, 0)``: ``ZERO_COORDINATE`` and
   ``COORDINATE_OUT_OF_RANGE`` (validate step 2);
2. digits (:func:`decimals_of_floats`, the parser's count): at least
   :data:`FAST_MIN_DECIMALS`, and the precision circle of the digits
   (:func:`cell_precisions_m`, the parser's ``precision_m``) at most 90 % of
   ``validate.ROUNDED_THRESHOLD_M``: ``COORDINATE_ROUNDED`` (step 3);
3. covered by a leaf (:meth:`JurisdictionIndex.locate_many`); no unwritten sign whose flip
   lands inside too, within ``validate.MAX_AREA_SPAN_DEG``: ``AMBIGUOUS_COORDINATE`` (step 4);
4. not within :data:`DEFAULT_PROBE_DEG` (twice ``validate.DEFAULT_LOCATION_RADIUS_M``) of a
   default point: ``DEFAULT_LOCATION_SUSPECTED`` (step 6);
5. exactly one leaf covers it and twice its precision radius is clear of every border
   (:meth:`JurisdictionIndex.clear_of_borders_many`): the index's ``border``,
   ``CIRCLE_CROSSES_BORDER``, ``ON_BORDER`` and ``OVERLAP`` answers.

The oracle tests (``tests/services/test_batch.py``, ``tests/web/test_locate_api.py``) check on
thousands of points that the fast answer equals the per-point one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import shapely
from numpy.typing import NDArray

from geo_service.geo.geometry import M_PER_DEG, M_PER_DEG_LAT_MIN
from geo_service.geo.index import JurisdictionIndex
from geo_service.geo.validate import DEFAULT_LOCATION_RADIUS_M, MAX_AREA_SPAN_DEG, ROUNDED_THRESHOLD_M

#: Points with fewer decimals than this take the per-point path (a rounding check to make).
FAST_MIN_DECIMALS = 3
#: Points beyond this latitude take the per-point path (degrees of longitude shrink fast there).
MAX_ABS_LAT = 60.0
#: Points this close (degrees) to a default point take the per-point path: twice
#: ``DEFAULT_LOCATION_RADIUS_M`` in degrees of longitude at :data:`MAX_ABS_LAT` (about 0.00036).
DEFAULT_PROBE_DEG = 2.0 * DEFAULT_LOCATION_RADIUS_M / (M_PER_DEG_LAT_MIN * math.cos(math.radians(MAX_ABS_LAT)))


def decimals_of_floats(values: Sequence[float] | NDArray[np.float64]) -> NDArray[np.int64]:
    """Decimals of each float as the parser counts them (shortest repr, no trailing zeros); -1 for exponents.

    The array form of ``coords._decimals_of_float`` (``Decimal(repr(v)).normalize()``).

    Examples
    --------
    >>> decimals_of_floats([-8.358, 114.0, 115.12, 1e-7]).tolist()
    [3, 0, 2, -1]
    """
    s = np.asarray([repr(float(v)) for v in values], dtype=str)
    dot = np.char.find(s, ".")
    length = np.char.str_len(s)
    has_exp = np.char.find(s, "e") >= 0
    dec = np.where(dot >= 0, length - dot - 1, 0)
    # "114.0" has no decimals, as Decimal("114.0").normalize() says.
    dec = np.where(np.char.endswith(s, ".0"), 0, dec)
    return np.where(has_exp, -1, dec).astype(np.int64)


def cell_precisions_m(decimals: NDArray[np.int64], lats: NDArray[np.float64]) -> NDArray[np.float64]:
    """Half-diagonal in metres of the rounding cell of ``decimals`` decimals at each latitude.

    The array form of ``coords._cell_precision_m`` (the parser's ``precision_m``).

    Examples
    --------
    >>> cell_precisions_m(np.array([2, 6]), np.array([-8.5, -8.5])).round(2).tolist()
    [782.84, 0.08]
    """
    step = 10.0 ** -np.asarray(decimals, dtype=float)
    coslat = np.cos(np.radians(lats))
    return np.asarray(0.5 * np.hypot(step * M_PER_DEG * coslat, step * M_PER_DEG), dtype=float)


@lru_cache(maxsize=4)
def _default_tree(index: JurisdictionIndex) -> shapely.STRtree | None:
    pts = index.default_points()
    if not pts:
        return None
    return shapely.STRtree(shapely.points([p[0] for p in pts], [p[1] for p in pts]))


def fast_positions(index: JurisdictionIndex, lons: NDArray[np.float64], lats: NDArray[np.float64],
                   decimals: NDArray[np.int64]) -> NDArray[np.int64]:
    """Leaf position of every point the per-point path would answer plainly; -1 elsewhere.

    The caller passes ``decimals < 0`` for every row that is not a plain point (text, CRS,
    radius, hint); the rules are in the module docstring.

    Examples
    --------
    >>> from geo_service.geo.bundled import load_bali_units
    >>> idx = JurisdictionIndex.build(load_bali_units())
    >>> pos = fast_positions(idx, np.array([115.21234, 115.21234, 115.2]), np.array([-8.61234, -8.61234, -8.6]),
    ...                      np.array([5, -1, 1]))
    >>> idx.codes_for(pos).tolist()
    ['51.71.04', None, None]
    """
    n = len(lons)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(lons) & np.isfinite(lats) & (np.abs(lats) <= MAX_ABS_LAT) & (np.abs(lons) <= 180)
    ok &= ~((lons == 0) & (lats == 0)) & (decimals >= FAST_MIN_DECIMALS)
    pos = np.full(n, -1, dtype=np.int64)
    if not ok.any():
        return pos
    sel = np.flatnonzero(ok)
    pos[sel] = index.locate_many(lons[sel], lats[sel])
    ok &= pos >= 0
    # Unwritten signs (positive numbers) near zero: the per-point path also tries the flip.
    for flip_lat in (True, False):
        v = lats if flip_lat else lons
        doubt = np.flatnonzero(ok & (v > 0) & (2 * v <= MAX_AREA_SPAN_DEG))
        if len(doubt):
            fx = lons[doubt] if flip_lat else -lons[doubt]
            fy = -lats[doubt] if flip_lat else lats[doubt]
            ok[doubt[index.locate_many(fx, fy) >= 0]] = False
    tree = _default_tree(index)
    if tree is not None and ok.any():
        sel = np.flatnonzero(ok)
        hit_idx, _ = tree.query(shapely.points(lons[sel], lats[sel]), predicate="dwithin", distance=DEFAULT_PROBE_DEG)
        ok[sel[np.unique(hit_idx)]] = False
    if ok.any():
        sel = np.flatnonzero(ok)
        radius_m = cell_precisions_m(decimals[sel], lats[sel])
        radius_deg = 2.0 * radius_m / (M_PER_DEG * np.cos(np.radians(lats[sel]))) + 1e-9
        unrounded = radius_m <= 0.9 * ROUNDED_THRESHOLD_M
        ok[sel] = unrounded & index.clear_of_borders_many(lons[sel], lats[sel], radius_deg)
    pos[~ok] = -1
    return pos
