"""Compiled kernel (issue 13): areas of a convex ring's overlap with leaves, from their border segments.

An uncertainty circle is a convex ring ``C`` (the 64-gon of :func:`geo_service.geo.distance.circle_ring`,
counter-clockwise). For a leaf ``P`` whose rings are oriented with its interior on the left (exterior
counter-clockwise, holes clockwise), Green's theorem gives twice the area of ``C ∩ P`` as the integral of
``x dy - y dx`` over the boundary of ``C ∩ P``, which is made of

* the parts of ``P``'s border segments inside ``C`` (each segment clipped to ``C`` by Cyrus-Beck against
  ``C``'s half-planes): ``cross(p, q)`` for a clipped piece ``p -> q``;
* the parts of ``C``'s ring inside ``P``. With ``W(s)`` the integral along ``C`` from its first vertex to
  the boundary point ``s`` (``W`` of a point on edge ``i`` at fraction ``u`` is the sum of the edges
  before it plus ``u * cross(c_i, c_i+1)``), ``C`` leaves ``P`` where a segment of ``P`` enters ``C`` and
  comes back in where one leaves it, so this part is ``sum W(entries) - sum W(exits)``, plus the whole
  ring's ``W`` when ``C``'s first vertex lies in ``P``.

That last term needs no point-in-polygon test: the sum without it lies in ``(0, area)`` when the first
vertex is outside ``P`` and in ``(-area, 0)`` when it is inside, so its sign tells. Only a sum within a
tolerance of 0 (a leaf touching or barely overlapping the ring) is undecided, and a leaf with no segment
inside ``C`` overlaps it wholly or not at all (the caller knows which leaves cover the centre).

Anything the kernel cannot decide exactly is reported, never guessed: a segment end within ``tol`` of
``C``'s boundary, a crossing within ``tol`` of a vertex of ``C``, a segment grazing ``C`` or nearly
parallel to the edge it crosses, a ring that is not convex, unequal entries and exits, or an area within
a relative 1e-9 of 0 or of the whole ring. The caller then takes the GEOS overlay (the oracle,
``JurisdictionIndex._shares``).

Coordinates are worked relative to the ring's centre (exact differences for nearby doubles), so the
sums do not lose digits to the absolute longitudes.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from geo_service.geo.jit import kernel

#: The kernel decided every area (``status`` of :func:`ring_overlay_areas`).
OVERLAY_OK = 0
#: Near-degenerate geometry: the caller must use the exact GEOS overlay instead.
OVERLAY_DEGENERATE = 1

#: Relative share of the ring's area below which an overlap counts as undecided (near 0 or near whole).
_AREA_REL_TOL = 1e-9
#: A segment end or crossing within this share of the ring's radius of its boundary or vertices, or
#: within the absolute distance (degrees: 1e-11 is about a micrometre, a thousand times the last bit of a
#: longitude), counts as touching it: undecided.
_TOUCH_REL_TOL = 1e-9
_TOUCH_ABS_TOL_DEG = 1e-11
#: Smallest sine of the angle between a segment and the ring edge it crosses.
_MIN_CROSSING_SINE = 1e-9


@kernel
def _ring_position(i: int, den: float, x: float, y: float, seg_len: float, px: NDArray[np.float64],
                   py: NDArray[np.float64], ex: NDArray[np.float64], ey: NDArray[np.float64],
                   inv_len: NDArray[np.float64], edge_len: NDArray[np.float64], cr: NDArray[np.float64],
                   wpre: NDArray[np.float64], tol: float) -> float:
    """``W`` at the crossing ``(x, y)`` of a segment with ring edge ``i`` (NaN when it is not decidable:
    the segment nearly parallel to the edge, or the crossing within ``tol`` of a vertex of the ring)."""
    if abs(den) * inv_len[i] < _MIN_CROSSING_SINE * seg_len:
        return math.nan
    u = ((x - px[i]) * ex[i] + (y - py[i]) * ey[i]) * inv_len[i] * inv_len[i]
    if u * edge_len[i] <= tol or (1.0 - u) * edge_len[i] <= tol:
        return math.nan
    return float(wpre[i] + u * cr[i])


@kernel
def ring_overlay_areas(ring: NDArray[np.float64], cx: float, cy: float, seg_xy: NDArray[np.float64],
                       seg_flip: NDArray[np.bool_], seg_owner: NDArray[np.int64],
                       ids: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.float64], float, int]:
    """Twice the area of the convex ring's overlap with each leaf owning one of the segments ``ids``.

    Parameters
    ----------
    ring : numpy.ndarray
        The ring's vertices as rows ``(x, y)`` (the first not repeated at the end), counter-clockwise,
        in degrees.
    cx, cy : float
        The ring's centre; the sums are taken relative to it.
    seg_xy : numpy.ndarray
        Every leaf border segment as rows ``x1, y1, x2, y2``.
    seg_flip : numpy.ndarray
        True where a segment runs with its leaf's interior on the right (its ring is wound the other way).
    seg_owner : numpy.ndarray
        The leaf of each segment.
    ids : numpy.ndarray
        Rows of ``seg_xy`` to consider, sorted by owner (every segment that can meet the ring must be
        there: those whose box meets the ring's box).

    Returns
    -------
    owners, areas2 : numpy.ndarray
        The leaves with a segment inside the ring, and twice their overlap's area (degrees²).
    ring_area2 : float
        Twice the ring's area.
    status : int
        :data:`OVERLAY_OK`, or :data:`OVERLAY_DEGENERATE` (then nothing else returned may be used).
    """
    n = ring.shape[0]
    px = np.empty(n)
    py = np.empty(n)
    r2 = 0.0
    for i in range(n):
        px[i] = ring[i, 0] - cx
        py[i] = ring[i, 1] - cy
        r2 = max(r2, px[i] * px[i] + py[i] * py[i])
    tol = max(_TOUCH_REL_TOL * math.sqrt(r2), _TOUCH_ABS_TOL_DEG)
    ex = np.empty(n)
    ey = np.empty(n)
    inv_len = np.empty(n)
    edge_len = np.empty(n)
    cr = np.empty(n)
    wpre = np.empty(n)
    wtot = 0.0
    turning = 0.0
    none_i = np.empty(0, dtype=np.int64)
    none_f = np.empty(0)
    for i in range(n):
        j = i + 1 if i + 1 < n else 0
        ex[i] = px[j] - px[i]
        ey[i] = py[j] - py[i]
        cr[i] = px[i] * py[j] - px[j] * py[i]
        wpre[i] = wtot
        wtot += cr[i]
        edge_len[i] = math.sqrt(ex[i] * ex[i] + ey[i] * ey[i])
        if edge_len[i] <= tol:
            return none_i, none_f, wtot, OVERLAY_DEGENERATE
        inv_len[i] = 1.0 / edge_len[i]
    for i in range(n):
        h = i - 1 if i > 0 else n - 1
        turn = ex[h] * ey[i] - ey[h] * ex[i]
        if not turn > 0.0:  # not strictly convex (or NaN)
            return none_i, none_f, wtot, OVERLAY_DEGENERATE
        turning += math.atan2(turn, ex[h] * ex[i] + ey[h] * ey[i])
    if not wtot > 0.0 or abs(turning - 2.0 * math.pi) > 1e-6:
        return none_i, none_f, wtot, OVERLAY_DEGENERATE
    area_tol = _AREA_REL_TOL * wtot

    m = ids.shape[0]
    owners = np.empty(m, dtype=np.int64)
    areas2 = np.empty(m)
    k = 0
    q = 0
    while q < m:
        owner = seg_owner[ids[q]]
        segpart = 0.0
        wsum = 0.0
        met = False
        n_in = 0
        n_out = 0
        while q < m and seg_owner[ids[q]] == owner:
            s = ids[q]
            q += 1
            if seg_flip[s]:
                ax, ay, bx, by = seg_xy[s, 2] - cx, seg_xy[s, 3] - cy, seg_xy[s, 0] - cx, seg_xy[s, 1] - cy
            else:
                ax, ay, bx, by = seg_xy[s, 0] - cx, seg_xy[s, 1] - cy, seg_xy[s, 2] - cx, seg_xy[s, 3] - cy
            dx, dy = bx - ax, by - ay
            t_in, t_out = 0.0, 1.0
            i_in, i_out = -1, -1
            den_in, den_out = 0.0, 0.0
            ha, hb = np.inf, np.inf
            reject = False
            for i in range(n):
                # Inward normal of edge i (the ring is counter-clockwise): (-ey, ex).
                nx, ny = -ey[i], ex[i]
                num = nx * (ax - px[i]) + ny * (ay - py[i])
                ha = min(ha, num * inv_len[i])
                hb = min(hb, (nx * (bx - px[i]) + ny * (by - py[i])) * inv_len[i])
                den = nx * dx + ny * dy
                if den > 0.0:
                    t = -num / den
                    if t > t_in:
                        t_in, i_in, den_in = t, i, den
                elif den < 0.0:
                    t = -num / den
                    if t < t_out:
                        t_out, i_out, den_out = t, i, den
                elif num < 0.0:
                    reject = True
            if abs(ha) <= tol or abs(hb) <= tol:
                return none_i, none_f, wtot, OVERLAY_DEGENERATE
            if reject:
                continue
            seg_len = math.sqrt(dx * dx + dy * dy)
            if abs(t_out - t_in) * seg_len <= tol:
                return none_i, none_f, wtot, OVERLAY_DEGENERATE
            if t_in > t_out:
                continue
            sx, sy = (ax + t_in * dx, ay + t_in * dy) if i_in >= 0 else (ax, ay)
            tx, ty = (ax + t_out * dx, ay + t_out * dy) if i_out >= 0 else (bx, by)
            segpart += sx * ty - tx * sy
            met = True
            # The leaf's segment enters the ring where the ring leaves the leaf, and vice versa.
            if i_in >= 0:
                w = _ring_position(i_in, den_in, sx, sy, seg_len, px, py, ex, ey, inv_len, edge_len, cr, wpre, tol)
                if math.isnan(w):
                    return none_i, none_f, wtot, OVERLAY_DEGENERATE
                wsum += w
            if i_out >= 0:
                w = _ring_position(i_out, den_out, tx, ty, seg_len, px, py, ex, ey, inv_len, edge_len, cr, wpre, tol)
                if math.isnan(w):
                    return none_i, none_f, wtot, OVERLAY_DEGENERATE
                wsum -= w
            if i_in >= 0:
                n_in += 1
            if i_out >= 0:
                n_out += 1
        if not met:
            continue
        if n_in != n_out:
            return none_i, none_f, wtot, OVERLAY_DEGENERATE
        a2 = segpart + wsum
        if a2 > area_tol:
            pass
        elif a2 < -area_tol:
            a2 += wtot  # the ring's first vertex lies in the leaf
        else:
            return none_i, none_f, wtot, OVERLAY_DEGENERATE
        if a2 <= area_tol or a2 > wtot + area_tol:
            return none_i, none_f, wtot, OVERLAY_DEGENERATE
        owners[k] = owner
        areas2[k] = a2
        k += 1
    return owners[:k].copy(), areas2[:k].copy(), wtot, OVERLAY_OK


__all__ = ["OVERLAY_DEGENERATE", "OVERLAY_OK", "ring_overlay_areas"]
