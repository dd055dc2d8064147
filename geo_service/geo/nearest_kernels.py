"""Compiled nearest-border searches (issue 13): the sea path and the leaf distances of the index.

The jurisdiction index (:mod:`geo_service.geo.index`) answers a point no leaf covers with the leaf
owning the nearest border segment, and ranks the leaves an uncertainty circle overlaps by their
distance. Both used to run GEOS's nearest search (``STRtree.query_nearest``) and then a numpy/Python
loop over a few to a few thousand segments; here the same arithmetic runs as numba kernels
(:func:`geo_service.geo.jit.kernel`) over precomputed candidate lists. The numpy/GEOS code of the
index stays as the oracle the tests compare with (``JurisdictionIndex._nearest_on_segments`` and
``JurisdictionIndex._nearest_tree``).

Frames (as in the index): a segment is ``x1, y1, x2, y2`` in degrees (lon, lat). *The point's frame*
scales longitudes by ``k = lon_scale(lat)`` at the query point (isotropic there); *the tree's frame*
scales them by ``k0``, the scale at the set's mean latitude, in which the segment tree was built.

* :func:`nearest_on_segments` / :func:`nearest_on_slice`: among some segments, the nearest in the
  point's frame, with the index's tie rule (the lowest leaf position among segments whose squared
  distance is within 1e-9 of the best), operation for operation the arithmetic of
  ``JurisdictionIndex._nearest_on_segments`` (so the same bits come out).
* :class:`NearestCells`: a lon/lat grid whose every cell lists the border segments that can be the
  nearest to any point of the cell (built once with the index); :func:`nearest_in_cell` runs the
  index's two-step rule for a point on its cell's list: the nearest segments in the tree's frame by
  GEOS's own point-to-segment arithmetic (``Distance::pointToSegment``, exact ties kept, as
  ``query_nearest(all_matches=True)``), then the point's frame among them; where the point's scale
  differs from the tree's by more than 0.1 %, every segment whose box meets the reach box of the
  index (the same box) instead. A point outside the grid, in a cell without a list (far at sea), or
  whose nearest distances in the tree's frame are within 1e-12 of each other without being equal (a
  tie GEOS's arithmetic might decide differently) is answered by the tree (status 0).
* :func:`station_candidates`: the planar pre-selection of the nearest stations
  (:meth:`geo_service.geo.stations.StationIndex.nearest`) in one compiled pass;
  :func:`nearest_stations`: that pre-selection, the candidates' geodesic distances
  (:func:`geo_service.geo.geodesic_kernels.inverse_distance`, pyproj's ``Geod.inv`` bit for bit), their
  order and the preferred unit's lead, in one call.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely import STRtree

from geo_service.geo.distance import lon_scales
from geo_service.geo.geodesic_kernels import inverse_distance
from geo_service.geo.jit import kernel

#: Relative gap below which two unequal nearest distances in the tree's frame are left to GEOS.
_NEAR_TIE = 1e-12


@kernel
def _offset(seg_xy: NDArray[np.float64], s: int, lon: float, lat: float, k: float) -> tuple[float, float]:
    """The nearest point of segment ``s`` as an offset from the point, in the point's frame."""
    ux = (seg_xy[s, 0] - lon) * k
    uy = seg_xy[s, 1] - lat
    vx = (seg_xy[s, 2] - lon) * k - ux
    vy = seg_xy[s, 3] - lat - uy
    f = min(1.0, max(0.0, -(ux * vx + uy * vy) / (vx * vx + vy * vy)))
    return ux + f * vx, uy + f * vy


@kernel
def nearest_on_segments(seg_xy: NDArray[np.float64], seg_owner: NDArray[np.int64], segs: NDArray[np.int64],
                        lon: float, lat: float, k: float) -> tuple[int, float, float]:
    """Among segments ``segs`` (at least one), the owner of the nearest in the point's frame and the
    nearest point's offset ``(qx, qy)`` from the point in that frame (longitude offset times ``k``).

    The nearest is the smallest ``(d2, owner, qx, qy)`` in tuple order; then, as at a shared border,
    the lowest owner among segments with ``d2 <= best * (1 + 1e-9)``.
    """
    best_d2 = math.inf
    best_owner = -1
    best_x = 0.0
    best_y = 0.0
    for j in range(segs.shape[0]):
        qx, qy = _offset(seg_xy, segs[j], lon, lat, k)
        d2 = qx * qx + qy * qy
        o = seg_owner[segs[j]]
        if d2 < best_d2 or (d2 == best_d2 and (o < best_owner or (o == best_owner and (
                qx < best_x or (qx == best_x and qy < best_y))))):
            best_d2, best_owner, best_x, best_y = d2, o, qx, qy
    if segs.shape[0] > 1:
        limit = best_d2 * (1.0 + 1e-9)
        for j in range(segs.shape[0]):
            o = seg_owner[segs[j]]
            if o < best_owner:
                qx, qy = _offset(seg_xy, segs[j], lon, lat, k)
                if qx * qx + qy * qy <= limit:
                    best_owner = o
    return best_owner, best_x, best_y


@kernel
def nearest_on_slice(seg_xy: NDArray[np.float64], seg_owner: NDArray[np.int64], lo: int, hi: int,
                     lon: float, lat: float, k: float) -> tuple[int, float, float]:
    """:func:`nearest_on_segments` over the segments ``lo..hi-1`` (one leaf's border)."""
    return nearest_on_segments(seg_xy, seg_owner, np.arange(lo, hi), lon, lat, k)  # type: ignore[no-any-return]


@kernel
def nearest_on_rows_within(seg_xy: NDArray[np.float64], seg_owner: NDArray[np.int64], rows: NDArray[np.int64],
                           lo: int, hi: int, lon: float, lat: float, k: float, reach: float) -> tuple[
                               bool, float, float]:
    """:func:`nearest_on_slice` over ``lo..hi-1`` measured only on those of ``rows`` (sorted) in it, when
    ``rows`` holds every segment coming within ``reach`` of the point (in the point's frame).

    True with the offset when the nearest of them lies strictly within the reach (by a relative 1e-9
    and 1e-12 degree, far above the rounding of the box that listed ``rows``):
    every segment at least as near then lies within it too, so is among ``rows``, and the tuple order
    of :func:`nearest_on_segments` picks the same nearest point as over the whole slice. False (and
    zeros) otherwise: the caller measures the whole slice.
    """
    a = np.searchsorted(rows, lo)
    b = np.searchsorted(rows, hi)
    if a >= b:
        return False, 0.0, 0.0
    _, qx, qy = nearest_on_segments(seg_xy, seg_owner, rows[a:b], lon, lat, k)
    limit = reach * (1.0 - 1e-9) - 1e-12
    if limit > 0.0 and qx * qx + qy * qy < limit * limit:
        return True, qx, qy
    return False, 0.0, 0.0


@kernel
def _geos_point_segment(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> float:
    """GEOS ``Distance::pointToSegment``, operation for operation (the segment has two distinct ends)."""
    r = ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / ((bx - ax) * (bx - ax) + (by - ay) * (by - ay))
    if r <= 0.0:
        return math.sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay))
    if r >= 1.0:
        return math.sqrt((px - bx) * (px - bx) + (py - by) * (py - by))
    s = ((ay - py) * (bx - ax) - (ax - px) * (by - ay)) / ((bx - ax) * (bx - ax) + (by - ay) * (by - ay))
    return abs(s) * math.sqrt((bx - ax) * (bx - ax) + (by - ay) * (by - ay))


@kernel
def nearest_in_cell(seg_xy: NDArray[np.float64], seg_tree_xy: NDArray[np.float64], seg_owner: NDArray[np.int64],
                    start: NDArray[np.int64], end: NDArray[np.int64], items: NDArray[np.int32], x0: float,
                    y0: float, inv: float,
                    nx: int, ny: int, lon: float, lat: float, k0: float, k: float, r: float,
                    ) -> tuple[int, int, float, float]:
    """``(status, owner, qx, qy)`` of the nearest border for a point no leaf covers (see the module).

    ``seg_tree_xy`` holds the segments in the tree's frame (longitudes times ``k0``, exactly as the
    tree's line strings); ``r = k / k0``. Status 0: not decided here, ask the tree.
    """
    fi = (lon - x0) * inv
    fj = (lat - y0) * inv
    if not (fi >= 0.0 and fi < nx and fj >= 0.0 and fj < ny):
        return 0, -1, 0.0, 0.0
    c = int(fj) * nx + int(fi)
    lo, hi = start[c], end[c]
    if lo == hi:
        return 0, -1, 0.0, 0.0
    px = lon * k0
    py = lat
    n = hi - lo
    d = np.empty(n)
    m = math.inf
    for t in range(n):
        s = items[lo + t]
        d[t] = _geos_point_segment(px, py, seg_tree_xy[s, 0], seg_tree_xy[s, 1], seg_tree_xy[s, 2],
                                   seg_tree_xy[s, 3])
        if d[t] < m:
            m = d[t]
    keep = np.empty(n, dtype=np.int64)
    kept = 0
    if abs(r - 1.0) > 1e-3:
        reach = m * max(r, 1.0) / min(r, 1.0) * (1.0 + 1e-9) + 1e-12
        bx0, bx1, by0, by1 = px - reach, px + reach, py - reach, py + reach
        for t in range(n):
            s = items[lo + t]
            if (min(seg_tree_xy[s, 0], seg_tree_xy[s, 2]) <= bx1 and max(seg_tree_xy[s, 0], seg_tree_xy[s, 2]) >= bx0
                    and min(seg_tree_xy[s, 1], seg_tree_xy[s, 3]) <= by1
                    and max(seg_tree_xy[s, 1], seg_tree_xy[s, 3]) >= by0):
                keep[kept] = s
                kept += 1
    else:
        near = m * (1.0 + _NEAR_TIE)
        for t in range(n):
            if d[t] == m:
                keep[kept] = items[lo + t]
                kept += 1
            elif d[t] <= near:
                return 0, -1, 0.0, 0.0
    owner, qx, qy = nearest_on_segments(seg_xy, seg_owner, keep[:kept], lon, lat, k)
    return 1, owner, qx, qy


@kernel
def _within(seg_tree_xy: NDArray[np.float64], segs: NDArray[np.int64], px: NDArray[np.float64],
            py: NDArray[np.float64], radius: NDArray[np.float64]) -> NDArray[np.bool_]:
    """For each pair, whether segment ``segs[i]`` lies within ``radius[i]`` of ``(px[i], py[i])``."""
    out = np.empty(segs.shape[0], dtype=np.bool_)
    for i in range(segs.shape[0]):
        s = segs[i]
        out[i] = _geos_point_segment(px[i], py[i], seg_tree_xy[s, 0], seg_tree_xy[s, 1], seg_tree_xy[s, 2],
                                     seg_tree_xy[s, 3]) <= radius[i]
    return out


@kernel
def _vertex_distance_bound(seg_tree_xy: NDArray[np.float64], k0: float, x0: float, y0: float, cs: float,
                           nx: int, ny: int) -> NDArray[np.float64]:
    """For every cell, the tree-frame distance from its centre to *some* segment end near it: an upper
    bound of the distance to the nearest segment (inf where none was found).

    Each cell holding segment ends seeds one of them; two sweeps over the grid (a seed propagation
    distance transform) hand every cell the best seed among its neighbours'.
    """
    n = nx * ny
    seed = np.full(n, -1, dtype=np.int64)
    for s in range(seg_tree_xy.shape[0]):
        for e in range(2):
            i = int(math.floor((seg_tree_xy[s, 2 * e] / k0 - x0) / cs))
            j = int(math.floor((seg_tree_xy[s, 2 * e + 1] - y0) / cs))
            if 0 <= i < nx and 0 <= j < ny and seed[j * nx + i] < 0:
                seed[j * nx + i] = 2 * s + e
    dist = np.full(n, np.inf)
    for c in range(n):
        if seed[c] >= 0:
            sx = seg_tree_xy[seed[c] // 2, 2 * (seed[c] % 2)]
            sy = seg_tree_xy[seed[c] // 2, 2 * (seed[c] % 2) + 1]
            dist[c] = math.hypot((x0 + (c % nx + 0.5) * cs) * k0 - sx, y0 + (c // nx + 0.5) * cs - sy)
    for sweep in range(2):
        step = 1 if sweep == 0 else -1
        for t in range(n):
            c = t if sweep == 0 else n - 1 - t
            i, j = c % nx, c // nx
            px, py = (x0 + (i + 0.5) * cs) * k0, y0 + (j + 0.5) * cs
            for di, dj in ((-step, 0), (-step, -step), (0, -step), (step, -step)):
                a, b = i + di, j + dj
                if 0 <= a < nx and 0 <= b < ny and seed[b * nx + a] >= 0:
                    v = seed[b * nx + a]
                    d = math.hypot(px - seg_tree_xy[v // 2, 2 * (v % 2)], py - seg_tree_xy[v // 2, 2 * (v % 2) + 1])
                    if d < dist[c]:
                        dist[c] = d
                        seed[c] = v
    return dist


@kernel
def station_candidates(xs: NDArray[np.float64], ys: NDArray[np.float64], x: float, y: float, k: int,
                       spare: float) -> NDArray[np.int64]:
    """Indices of the stations within ``1.03 * kth + spare`` of ``(x, y)`` in the stations' frame, where
    ``kth`` is the k-th smallest such distance (``geo.stations.StationIndex._candidates_numpy``)."""
    n = xs.shape[0]
    d = np.empty(n)
    for i in range(n):
        d[i] = math.hypot(xs[i] - x, ys[i] - y)
    limit = np.partition(d.copy(), k - 1)[k - 1] * 1.03 + spare
    out = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        if d[i] <= limit:
            out[m] = i
            m += 1
    return out[:m]


@kernel
def nearest_stations(data: NDArray[np.float64], ints: NDArray[np.int64], x: float, y: float, k: int, spare: float,
                     lon: float, lat: float, pstart: int, pend: int) -> NDArray[np.float64]:
    """``StationIndex.nearest``'s list for ``k >= 1`` and at least one station, as an array ``(2, m)``:
    the stations' indices (as floats, exact) and their geodesic distances from ``(lon, lat)`` in metres.

    ``data`` holds a row each of the stations' x and y in the pre-selection frame, longitudes and
    latitudes; ``ints[:n]`` is each station's rank in the order of (code, position), and
    ``ints[pstart:pend]`` the preferred unit's stations (``pstart == pend``: none). The list is: the
    candidates of :func:`station_candidates` for ``(x, y)`` (every station when there are at most ``k``)
    and the preferred stations among them or not, ordered by (geodesic distance, rank), which is the
    order of ``sorted`` on (distance, code, position), the nearest preferred station moved first, the
    first ``k``. The distances are :func:`geo_service.geo.geodesic_kernels.inverse_distance`'s, pyproj's
    ``Geod.inv`` bit for bit.

    One array in and one out keep the call's own cost low (each array argument or result costs some
    0.1-0.2 us of dispatch). An array ``(0, 0)`` means a distance is NaN (a latitude beyond 90 degrees,
    a NaN or infinite coordinate): Python's sort of NaN keys is no total order, so the caller answers
    such a point with pyproj and ``sorted`` as before.
    """
    n = data.shape[1]
    if n <= k:
        chosen = np.arange(n)
    else:
        chosen = station_candidates(data[0], data[1], x, y, k, spare)
    m = chosen.shape[0]
    idx = np.empty(m + pend - pstart, dtype=np.int64)
    idx[:m] = chosen
    for j in range(pstart, pend):
        p = ints[j]
        found = False
        for i in range(chosen.shape[0]):
            if chosen[i] == p:
                found = True
                break
        if not found:
            idx[m] = p
            m += 1
    dist = np.empty(m)
    for i in range(m):
        d = inverse_distance(lon, lat, data[2, idx[i]], data[3, idx[i]])
        if math.isnan(d):
            return np.empty((0, 0))
        # insertion sort on (distance, rank): a handful of candidates, a strict total order
        r = ints[idx[i]]
        ii = idx[i]
        j = i - 1
        while j >= 0 and (dist[j] > d or (dist[j] == d and ints[idx[j]] > r)):
            dist[j + 1] = dist[j]
            idx[j + 1] = idx[j]
            j -= 1
        dist[j + 1] = d
        idx[j + 1] = ii
    first = 0
    if pend > pstart:  # the nearest preferred station leads
        found = False
        for i in range(m):
            for j in range(pstart, pend):
                if ints[j] == idx[i]:
                    found = True
                    break
            if found:
                first = i
                break
    top = min(k, m)
    out = np.empty((2, top))
    if top == 0:  # no candidate (a NaN point: every pre-selection distance is NaN) and no preferred unit
        return out
    out[0, 0] = idx[first]
    out[1, 0] = dist[first]
    o = 1
    for i in range(m):
        if o == top:
            break
        if i != first:
            out[0, o] = idx[i]
            out[1, o] = dist[i]
            o += 1
    return out


class NearestCells:
    """Per-cell candidate lists for the nearest border segment (see the module docstring).

    A cell's list holds every segment within ``(D + 2h) * rho * (1 + 1e-6)`` of the cell's centre in
    the tree's frame, where ``D`` bounds the centre's nearest-segment distance from above (the
    distance to some segment end, :func:`_vertex_distance_bound`), ``h`` is the cell's half-diagonal
    (so every point ``P`` of the cell is within ``h`` of the centre, and ``P``'s nearest distance ``m``
    at most ``D + h``) and ``rho >= 1`` the largest ``max(r, 1) / min(r, 1)`` over the cell's
    latitudes. A segment that can be ``P``'s nearest in its own frame, or tie with it, or lie within
    ``m * rho`` (the reach box's half-side) is within ``(D + h) * rho`` of ``P``, so within the list's
    radius of the centre. Far from the borders (``D`` over ``FAR_CELLS`` block half-diagonals) the
    cells of a block of ``BLOCK`` x ``BLOCK`` share the list of the block, by the same rule with the
    block's centre and half-diagonal (there the lists are long and alike, and one query serves 16
    cells). Cells farther than ``max_reach`` (tree-frame degrees) from every segment, or whose list
    would exceed ``max_items``, get no list (the tree answers there). Cell ``c``'s list is
    ``items[start[c]:end[c]]``.
    """

    #: Side of a block of cells sharing one list far from the borders, and how far that is.
    BLOCK = 4
    FAR_CELLS = 7.0

    __slots__ = ("x0", "y0", "inv", "nx", "ny", "start", "end", "items")

    def __init__(self, x0: float, y0: float, inv: float, nx: int, ny: int, start: NDArray[np.int64],
                 end: NDArray[np.int64], items: NDArray[np.int32]) -> None:
        self.x0, self.y0, self.inv, self.nx, self.ny = x0, y0, inv, nx, ny
        self.start, self.end, self.items = start, end, items

    @classmethod
    def empty(cls) -> NearestCells:
        """No cells: every point is left to the tree."""
        none = np.zeros(0, dtype=np.int64)
        return cls(0.0, 0.0, 1.0, 0, 0, none, none, np.zeros(0, dtype=np.int32))

    @classmethod
    def build(cls, tree: STRtree, seg_tree_xy: NDArray[np.float64], k0: float, cell_deg: float,
              max_cells: int, max_reach: float, max_items: int = 2000) -> NearestCells:
        """Lists for the box of the segments widened by ``max_reach``, in cells of ``cell_deg``; none at
        all when that takes more than ``max_cells`` cells."""
        if len(seg_tree_xy) == 0:
            return cls.empty()
        xs, ys = seg_tree_xy[:, [0, 2]] / k0, seg_tree_xy[:, [1, 3]]
        pad = max_reach / min(k0, 1.0)
        xmin, xmax = float(xs.min()) - pad, float(xs.max()) + pad
        ymin, ymax = float(ys.min()) - max_reach, float(ys.max()) + max_reach
        cs = cell_deg
        nx, ny = int(math.ceil((xmax - xmin) / cs)), int(math.ceil((ymax - ymin) / cs))
        if nx * ny > max_cells:
            return cls.empty()
        # An upper bound of D (the distance to some border vertex) is enough for a superset, and is
        # much cheaper than GEOS's nearest search from every centre.
        dist = _vertex_distance_bound(seg_tree_xy, k0, xmin, ymin, cs, nx, ny)
        ci = np.arange(nx * ny)
        i, j = ci % nx, ci // nx
        b = cls.BLOCK
        bx, by = i // b, j // b
        block = by * ((nx + b - 1) // b) + bx
        # The block's centre and an upper bound of its D: a cell's bound plus its way to the centre.
        bcx, bcy = xmin + (bx + 0.5) * b * cs, ymin + (by + 0.5) * b * cs
        via = dist + np.hypot((xmin + (i + 0.5) * cs - bcx) * k0, ymin + (j + 0.5) * cs - bcy) * (1.0 + 1e-9)
        bdist = np.full(int(block.max()) + 1, np.inf)
        np.minimum.at(bdist, block, via)
        h_cell = 0.5 * cs * math.hypot(k0, 1.0) * (1.0 + 1e-9)
        far = bdist[block] > cls.FAR_CELLS * b * h_cell
        # One query per near cell and per far block: (centre x, centre y, D bound, half-diagonal, side).
        near = np.flatnonzero(~far & (dist <= max_reach))
        blocks = np.unique(block[far & (dist <= max_reach)])
        bi, bj = blocks % ((nx + b - 1) // b), blocks // ((nx + b - 1) // b)
        qx = np.concatenate([xmin + (i[near] + 0.5) * cs, xmin + (bi + 0.5) * b * cs])
        qy = np.concatenate([ymin + (j[near] + 0.5) * cs, ymin + (bj + 0.5) * b * cs])
        qd = np.concatenate([dist[near], bdist[blocks]])
        side = np.concatenate([np.full(len(near), cs), np.full(len(blocks), b * cs)])
        rho = np.ones(len(qx))
        for lat_at in (qy - side / 2, qy + side / 2, np.clip(0.0, qy - side / 2, qy + side / 2)):
            r = lon_scales(lat_at) / k0
            rho = np.maximum(rho, np.maximum(r, 1.0) / np.minimum(r, 1.0))
        radius = (qd + side * math.hypot(k0, 1.0) * (1.0 + 1e-9)) * rho * (1.0 + 1e-6) + 1e-9
        lo, hi, seg_of = _lists(tree, seg_tree_xy, qx * k0, qy, radius, max_items)
        start, end = np.zeros(nx * ny, dtype=np.int64), np.zeros(nx * ny, dtype=np.int64)
        start[near], end[near] = lo[:len(near)], hi[:len(near)]
        cells = np.flatnonzero(far & (dist <= max_reach))
        q = len(near) + np.searchsorted(blocks, block[cells])
        start[cells], end[cells] = lo[q], hi[q]
        return cls(xmin, ymin, 1.0 / cs, nx, ny, start, end, seg_of.astype(np.int32))

    @property
    def nbytes(self) -> int:
        """Memory held by the lists."""
        return int(self.start.nbytes + self.end.nbytes + self.items.nbytes)


def _lists(tree: STRtree, seg_tree_xy: NDArray[np.float64], x: NDArray[np.float64], y: NDArray[np.float64],
           radius: NDArray[np.float64], max_items: int) -> tuple[NDArray[np.int64], NDArray[np.int64],
                                                             NDArray[np.int64]]:
    """For each centre, the segments within its radius as ``items[lo:hi]`` (empty beyond ``max_items``)."""
    counts = np.zeros(len(x), dtype=np.int64)
    parts: list[NDArray[np.int64]] = []
    for chunk in np.array_split(np.arange(len(x)), max(1, len(x) // 4096)):
        if len(chunk) == 0:
            continue
        # The tree's box query (no distance computed by GEOS), then the distances compiled.
        rx, ry, rr = x[chunk], y[chunk], radius[chunk]
        qi, si = tree.query(shapely.box(rx - rr, ry - rr, rx + rr, ry + rr))
        keep = _within(seg_tree_xy, si, rx[qi], ry[qi], rr[qi])
        order = np.argsort(qi[keep], kind="stable")
        qi, si = qi[keep][order], si[keep][order]
        n_of = np.bincount(qi, minlength=len(chunk))
        ok = n_of <= max_items
        counts[chunk[ok]] = n_of[ok]
        parts.append(si[ok[qi]])
    hi = np.cumsum(counts)
    # Chunks come in order and each is sorted by centre: the pairs are grouped already.
    return hi - counts, hi, np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


__all__ = ["NearestCells", "nearest_in_cell", "nearest_on_rows_within", "nearest_on_segments", "nearest_on_slice",
           "nearest_stations", "station_candidates"]
