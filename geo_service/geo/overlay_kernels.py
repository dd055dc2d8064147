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
    # Convex and simple: every turn is to the left (by less than half a turn, so the edges' direction
    # turns steadily) and the direction passes east (its y from negative to not) exactly once.
    windings = 0
    for i in range(n):
        h = i - 1 if i > 0 else n - 1
        if not ex[h] * ey[i] - ey[h] * ex[i] > 0.0:  # not a left turn (or NaN)
            return none_i, none_f, wtot, OVERLAY_DEGENERATE
        if ey[h] < 0.0 <= ey[i]:
            windings += 1
    if not wtot > 0.0 or windings != 1:
        return none_i, none_f, wtot, OVERLAY_DEGENERATE
    area_tol = _AREA_REL_TOL * wtot
    # Most segments of a large circle lie well inside the ring (within its inscribed circle) or well
    # outside it (beyond its farthest vertex): those need no clipping (the same sums, without the loop
    # over the ring's edges). A margin of ``tol`` keeps every such segment clear of the ring.
    r_in = np.inf
    for i in range(n):
        r_in = min(r_in, cr[i] * inv_len[i])  # the centre's distance to edge i's line
    inner2 = (r_in - tol) ** 2 if r_in > tol else -1.0
    outer2 = (math.sqrt(r2) + tol) ** 2

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
            if ax * ax + ay * ay < inner2 and bx * bx + by * by < inner2:
                segpart += ax * by - bx * ay
                met = True
                continue
            dd = dx * dx + dy * dy
            f = 0.0 if dd == 0.0 else min(1.0, max(0.0, -(ax * dx + ay * dy) / dd))
            if (ax + f * dx) ** 2 + (ay + f * dy) ** 2 > outer2:
                continue
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





@kernel
def bin_segments(seg_xy: NDArray[np.float64], x0: float, y0: float, inv: float, nx: int,
                 ny: int) -> tuple[NDArray[np.int64], NDArray[np.int32]]:
    """Bins of a regular grid (origin ``x0, y0``, ``inv`` cells per degree, ``nx`` by ``ny``) listing the
    segments whose box meets each cell: CSR offsets (one per cell, plus one) and segment rows."""
    m = seg_xy.shape[0]
    offsets = np.zeros(nx * ny + 1, dtype=np.int64)
    for s in range(m):
        i0, j0, i1, j1 = _cell_range(seg_xy[s, 0], seg_xy[s, 1], seg_xy[s, 2], seg_xy[s, 3], x0, y0, inv, nx, ny)
        for j in range(j0, j1 + 1):
            for i in range(i0, i1 + 1):
                offsets[j * nx + i + 1] += 1
    for c in range(nx * ny):
        offsets[c + 1] += offsets[c]
    rows = np.empty(offsets[nx * ny], dtype=np.int32)
    fill = offsets[:-1].copy()
    for s in range(m):
        i0, j0, i1, j1 = _cell_range(seg_xy[s, 0], seg_xy[s, 1], seg_xy[s, 2], seg_xy[s, 3], x0, y0, inv, nx, ny)
        for j in range(j0, j1 + 1):
            for i in range(i0, i1 + 1):
                rows[fill[j * nx + i]] = s
                fill[j * nx + i] += 1
    return offsets, rows


@kernel
def _cell_range(xa: float, ya: float, xb: float, yb: float, x0: float, y0: float, inv: float, nx: int,
                ny: int) -> tuple[int, int, int, int]:
    """The cells (first and last column, first and last row, clamped to the grid) under a box."""
    i0 = min(max(int(math.floor((min(xa, xb) - x0) * inv)), 0), nx - 1)
    i1 = min(max(int(math.floor((max(xa, xb) - x0) * inv)), 0), nx - 1)
    j0 = min(max(int(math.floor((min(ya, yb) - y0) * inv)), 0), ny - 1)
    j1 = min(max(int(math.floor((max(ya, yb) - y0) * inv)), 0), ny - 1)
    return i0, j0, i1, j1


@kernel
def segments_in_box(seg_xy: NDArray[np.float64], offsets: NDArray[np.int64], bins: NDArray[np.int32], x0: float,
                    y0: float, inv: float, nx: int, ny: int, xmin: float, ymin: float, xmax: float,
                    ymax: float) -> NDArray[np.int64]:
    """Rows of the segments whose box meets the box ``xmin..xmax, ymin..ymax``, sorted (so by leaf).

    Each segment is listed once: in the first cell (lowest column and row) under both boxes.
    """
    qi0, qj0, qi1, qj1 = _cell_range(xmin, ymin, xmax, ymax, x0, y0, inv, nx, ny)
    found = np.empty(64, dtype=np.int64)
    k = 0
    for j in range(qj0, qj1 + 1):
        for i in range(qi0, qi1 + 1):
            c = j * nx + i
            for q in range(offsets[c], offsets[c + 1]):
                s = bins[q]
                xa, ya, xb, yb = seg_xy[s, 0], seg_xy[s, 1], seg_xy[s, 2], seg_xy[s, 3]
                if max(xa, xb) < xmin or min(xa, xb) > xmax or max(ya, yb) < ymin or min(ya, yb) > ymax:
                    continue
                si0, sj0, _si1, _sj1 = _cell_range(xa, ya, xb, yb, x0, y0, inv, nx, ny)
                if i != max(si0, qi0) or j != max(sj0, qj0):
                    continue  # listed in another cell of the box
                if k == found.shape[0]:
                    grown = np.empty(2 * k, dtype=np.int64)
                    grown[:k] = found
                    found = grown
                found[k] = s
                k += 1
    return np.sort(found[:k])


@kernel
def bin_owners(seg_owner: NDArray[np.int64], offsets: NDArray[np.int64], rows: NDArray[np.int32]) -> tuple[
        NDArray[np.int64], NDArray[np.int32]]:
    """For the bins of :func:`bin_segments`, the distinct owners (leaves) of each cell's segments, in
    CSR form like the bins (a cell's rows are ascending, so its owners come out ascending)."""
    ncells = offsets.shape[0] - 1
    out_offsets = np.zeros(ncells + 1, dtype=np.int64)
    out = np.empty(rows.shape[0], dtype=np.int32)
    k = 0
    for c in range(ncells):
        last = -1
        for q in range(offsets[c], offsets[c + 1]):
            o = seg_owner[rows[q]]
            if o != last:
                out[k] = o
                k += 1
                last = o
        out_offsets[c + 1] = k
    return out_offsets, out[:k].copy()


@kernel
def segments_in_box_by_leaf(seg_xy: NDArray[np.float64], seg_offsets: NDArray[np.int64], offsets: NDArray[np.int64],
                            bins: NDArray[np.int32], own_offsets: NDArray[np.int64], owners: NDArray[np.int32],
                            x0: float, y0: float, inv: float, nx: int, ny: int, xmin: float, ymin: float,
                            xmax: float, ymax: float) -> NDArray[np.int64]:
    """:func:`segments_in_box` (the same rows), for a large box: the leaves with segments in the cells
    under the box, then each such leaf's whole run of segments tested in order, which needs neither the
    per-row de-duplication nor a sort. Where those runs are much longer than the rows under the box,
    it is :func:`segments_in_box` itself."""
    qi0, qj0, qi1, qj1 = _cell_range(xmin, ymin, xmax, ymax, x0, y0, inv, nx, ny)
    n_rows = 0
    n_own = 0
    for j in range(qj0, qj1 + 1):
        n_rows += offsets[j * nx + qi1 + 1] - offsets[j * nx + qi0]
        n_own += own_offsets[j * nx + qi1 + 1] - own_offsets[j * nx + qi0]
    if n_rows < 256:
        return segments_in_box(seg_xy, offsets, bins, x0, y0, inv, nx, ny, xmin, ymin, xmax, ymax)
    found_own = np.empty(n_own, dtype=np.int64)
    k = 0
    for j in range(qj0, qj1 + 1):
        for q in range(own_offsets[j * nx + qi0], own_offsets[j * nx + qi1 + 1]):
            found_own[k] = owners[q]
            k += 1
    leaves = np.unique(found_own[:k])
    total = 0
    for o in leaves:
        total += seg_offsets[o + 1] - seg_offsets[o]
    if total > 4 * n_rows:
        return segments_in_box(seg_xy, offsets, bins, x0, y0, inv, nx, ny, xmin, ymin, xmax, ymax)
    found = np.empty(total, dtype=np.int64)
    k = 0
    for o in leaves:
        for s in range(seg_offsets[o], seg_offsets[o + 1]):
            xa, ya, xb, yb = seg_xy[s, 0], seg_xy[s, 1], seg_xy[s, 2], seg_xy[s, 3]
            if max(xa, xb) < xmin or min(xa, xb) > xmax or max(ya, yb) < ymin or min(ya, yb) > ymax:
                continue
            found[k] = s
            k += 1
    return found[:k].copy()


@kernel
def segment_within(seg_xy: NDArray[np.float64], ids: NDArray[np.int64], cx: float, cy: float, k: float,
                   reach: float) -> bool:
    """Whether any of the segments ``ids`` comes within ``reach`` of ``(cx, cy)`` in the frame where
    longitudes are scaled by ``k`` (a relative 1e-9 spare: a near tie counts as within)."""
    limit = (reach * (1.0 + 1e-9) + 1e-12) ** 2
    for q in range(ids.shape[0]):
        s = ids[q]
        ux, uy = (seg_xy[s, 0] - cx) * k, seg_xy[s, 1] - cy
        vx, vy = (seg_xy[s, 2] - cx) * k - ux, seg_xy[s, 3] - cy - uy
        vv = vx * vx + vy * vy
        f = 0.0 if vv == 0.0 else min(1.0, max(0.0, -(ux * vx + uy * vy) / vv))
        qx, qy = ux + f * vx, uy + f * vy
        if qx * qx + qy * qy <= limit:
            return True
    return False

__all__ = ["OVERLAY_DEGENERATE", "OVERLAY_OK", "bin_owners", "bin_segments", "ring_overlay_areas",
           "segment_within", "segments_in_box", "segments_in_box_by_leaf"]


@kernel
def circle_cells(cells: NDArray[np.int32], nx: int, ny: int, x0: float, y0: float, inv: float, lon: float,
                 lat: float, radius_m: float, leaf: int, max_cells: int, mixed: int) -> int:
    """``_CellGrid.circle_cells`` of ``geo.index`` compiled (that method, in numpy, is its oracle): what the
    grid's cells under the circle's box say about a circle around a point of ``leaf`` (1: wholly inside
    it; -1: very likely crossing a border; 0: the cells do not tell). ``cells`` is the grid's flat array
    (int16 or int32), ``mixed`` its marker of a cell a border crosses."""
    dlat = radius_m / 110_000.0
    dlon = dlat / max(math.cos(math.radians(abs(lat) + dlat)), 1e-9)
    i0, i1 = int((lon - dlon - x0) * inv), int((lon + dlon - x0) * inv)
    j0, j1 = int((lat - dlat - y0) * inv), int((lat + dlat - y0) * inv)
    if i0 < 0 or j0 < 0 or i1 >= nx or j1 >= ny or (i1 - i0 + 1) * (j1 - j0 + 1) > max_cells:
        return 0
    h, w = j1 - j0 + 1, i1 - i0 + 1
    whole = True
    for j in range(h):
        for i in range(w):
            if cells[(j0 + j) * nx + i0 + i] != leaf:
                whole = False
                break
        if not whole:
            break
    if whole:
        return 1
    ci, cj = int((i1 - i0) * 0.15) + 1, int((j1 - j0) * 0.15) + 1  # columns, rows
    for j in range(cj, h - cj):
        for i in range(ci, w - ci):
            v = cells[(j0 + j) * nx + i0 + i]
            if v != leaf and v != mixed:
                return -1
    ci, cj = int((i1 - i0) * 0.3) + 1, int((j1 - j0) * 0.3) + 1
    for j in range(cj, h - cj):
        for i in range(ci, w - ci):
            if cells[(j0 + j) * nx + i0 + i] == mixed:
                return -1
    return 0
