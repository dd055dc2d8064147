"""Oracle tests of the compiled nearest-border kernels (geo_service.geo.nearest_kernels).

Every kernel must give the bits of the numpy/GEOS code it replaced, which stays in the index as the
oracle: ``JurisdictionIndex._nearest_on_segments`` (the point-frame rule with its tie rule) and
``JurisdictionIndex._nearest_tree`` (GEOS's nearest search, then that rule). Random points on the
real Bali boundaries and on every hand-made shape of tests/data: at sea near and far from the set's
mean latitude, on borders and vertices, on the perpendicular bisectors of shared vertices (ties).
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo_service.geo.bundled import load_bali_units
from geo_service.geo.distance import distance_m, lon_scale
from geo_service.geo.index import JurisdictionIndex
from geo_service.geo.nearest_kernels import (
    NearestCells,
    _geos_point_segment,
    _vertex_distance_bound,
    nearest_on_rows_within,
    nearest_on_segments,
    nearest_on_slice,
)
from geo_service.geo.stations import load_stations_geojson
from tests.geo.test_index import load_units

HAND_MADE = ["shared_edge.geojson", "hole.geojson", "overlap.geojson", "island.geojson", "bowtie.geojson",
             "no_children.geojson"]


@pytest.fixture(scope="module")
def idx() -> JurisdictionIndex:
    return JurisdictionIndex.build(load_bali_units(), set_id=3, stations=load_stations_geojson())


def _hand_made(name: str) -> JurisdictionIndex:
    return JurisdictionIndex.build(load_units(name))


def _around(index: JurisdictionIndex, n: int, seed: int, pad: float) -> tuple[np.ndarray, np.ndarray]:
    """Random points in the leaves' box widened by ``pad`` degrees, plus border vertices and points
    on the borders' segments (exactly on a border, as far as floats go)."""
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = shapely.total_bounds(index._leaf_geoms)
    lons = rng.uniform(xmin - pad, xmax + pad, n)
    lats = rng.uniform(ymin - pad, ymax + pad, n)
    s = index._seg_xy[rng.integers(0, len(index._seg_xy), n // 4)]
    t = rng.uniform(0.0, 1.0, len(s))
    return (np.concatenate([lons, s[:, 0], s[:, 0] + t * (s[:, 2] - s[:, 0])]),
            np.concatenate([lats, s[:, 1], s[:, 1] + t * (s[:, 3] - s[:, 1])]))


def _ties(index: JurisdictionIndex, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points off a vertex shared by two segments, along their bisector and straight out."""
    rng = np.random.default_rng(seed)
    s = index._seg_xy[rng.integers(0, len(index._seg_xy), n)]
    d = rng.uniform(1e-6, 0.05, n)
    ang = rng.uniform(0.0, 2 * np.pi, n)
    return s[:, 2] + d * np.cos(ang), s[:, 3] + d * np.sin(ang)


def test_point_to_segment_is_geos_arithmetic(idx: JurisdictionIndex) -> None:
    """The kernel's copy of GEOS's point-to-segment distance gives GEOS's bits (tree frame)."""
    rng = np.random.default_rng(4)
    segs = rng.integers(0, len(idx._seg_tree_xy), 5000)
    s = idx._seg_tree_xy[segs]
    px = s[:, 0] + rng.normal(0.0, 0.02, len(s))
    py = s[:, 1] + rng.normal(0.0, 0.02, len(s))
    px[:200], py[:200] = s[:200, 2], s[:200, 3]  # on a vertex
    lines = shapely.linestrings(np.stack([s[:, :2], s[:, 2:]], axis=1))
    want = shapely.distance(shapely.points(px, py), lines)
    got = np.array([_geos_point_segment(float(px[i]), float(py[i]), *(float(v) for v in s[i]))
                    for i in range(len(s))])
    assert np.array_equal(got, want)


def test_segments_kernel_is_the_numpy_rule(idx: JurisdictionIndex) -> None:
    """Same owner and same nearest point (to the bit) as ``_nearest_on_segments`` on random lists:
    short lists (the loop), long ones (the vectorised prefilter), whole leaves, shared borders."""
    rng = np.random.default_rng(5)
    lons, lats = _around(idx, 1200, 6, 0.3)
    for i, (lon, lat) in enumerate(zip(lons.tolist(), lats.tolist(), strict=True)):
        if i % 3 == 0:
            pos = int(rng.integers(0, len(idx.leaves)))
            segs = np.arange(idx._seg_offsets[pos], idx._seg_offsets[pos + 1])
        else:
            near = idx._seg_tree.query(shapely.points(lon * idx._seg_k0, lat), predicate="dwithin",
                                       distance=float(rng.uniform(0.001, 0.2)))
            segs = near if len(near) else np.array([int(rng.integers(0, len(idx._seg_xy)))])
        k = lon_scale(lat)
        owner, qx, qy = nearest_on_segments(idx._seg_xy, idx._seg_owner, segs.astype(np.int64), lon, lat, k)
        want = idx._nearest_on_segments(segs, lon, lat)
        assert owner == want[0], (lon, lat)
        assert distance_m(lon, lat, lon + qx / k, lat + qy) == want[1], (lon, lat)


def test_leaf_distance_is_the_oracle_on_bali(idx: JurisdictionIndex) -> None:
    """``_outside_distance_m`` (kernel over one leaf's slice) equals the numpy rule over that slice."""
    rng = np.random.default_rng(7)
    lons, lats = _around(idx, 800, 8, 0.1)
    for lon, lat in zip(lons.tolist(), lats.tolist(), strict=True):
        pos = int(rng.integers(0, len(idx.leaves)))
        lo, hi = int(idx._seg_offsets[pos]), int(idx._seg_offsets[pos + 1])
        assert idx._outside_distance_m(pos, lon, lat) == idx._nearest_on_segments(np.arange(lo, hi), lon, lat)[1]
        k = lon_scale(lat)
        assert nearest_on_slice(idx._seg_xy, idx._seg_owner, lo, hi, lon, lat, k)[0] == pos


def test_leaf_distance_on_the_rows_near_a_circle_is_the_whole_border_distance(idx: JurisdictionIndex) -> None:
    """The distance of a leaf measured on the segments near a circle (``_outside_distance_near_m``) is
    bit for bit the one over the leaf's whole border, whether its nearest point is within the reach
    (the rows decide), just beyond it or far away (the whole border decides); tiny reaches included."""
    rng = np.random.default_rng(23)
    lons, lats = _around(idx, 600, 8, 0.05)
    near_decided = 0
    for lon, lat in zip(lons.tolist(), lats.tolist(), strict=True):
        k = lon_scale(lat)
        for pos in rng.integers(0, len(idx.leaves), 3).tolist():
            whole = idx._outside_distance_m(pos, lon, lat)
            d_deg = whole / 110_574.0
            for reach in (d_deg * 0.5, d_deg * 0.999, d_deg * 1.0001, d_deg * 1.01, d_deg * 2.0, 1e-9, 0.05):
                rows = idx._segments_in_box(lon - reach / k, lat - reach, lon + reach / k, lat + reach)
                got = idx._outside_distance_near_m(pos, lon, lat, (rows, reach))
                assert got == whole, (lon, lat, pos, reach)
                lo, hi = int(idx._seg_offsets[pos]), int(idx._seg_offsets[pos + 1])
                near_decided += bool(nearest_on_rows_within(idx._seg_xy, idx._seg_owner, rows, lo, hi, lon, lat, k,
                                                            reach)[0])
    assert near_decided > 1000


@pytest.mark.parametrize("seed", [11, 12])
def test_nearest_at_sea_is_the_tree_answer_on_bali(idx: JurisdictionIndex, seed: int) -> None:
    """``_nearest`` (cell lists + kernel) equals ``_nearest_tree`` (GEOS + numpy) exactly, at sea near
    and far from the set's mean latitude, beyond the lists' reach (the tree answers), on vertices
    and on the bisectors of shared vertices."""
    lons, lats = _around(idx, 3000, seed, 0.6)
    tl, tt = _ties(idx, 1500, seed)
    lons, lats = np.concatenate([lons, tl]), np.concatenate([lats, tt])
    sea = idx.locate_many(lons, lats) < 0
    lons, lats = lons[sea], lats[sea]
    assert len(lons) > 2000
    far = 0
    for lon, lat in zip(lons.tolist(), lats.tolist(), strict=True):
        assert idx._nearest(lon, lat) == idx._nearest_tree(lon, lat), (lon, lat)
        far += abs(lon_scale(lat) / idx._seg_k0 - 1.0) > 1e-3
    assert far > 200


def test_nearest_on_every_point_of_a_cell_row(idx: JurisdictionIndex) -> None:
    """Points on cell edges and corners (the lists' guarantee is at its tightest there)."""
    c = idx._near_cells
    js = np.arange(0, c.ny, 7)
    lats = c.y0 + js / c.inv
    for lat in lats.tolist():
        for lon in (c.x0 + np.arange(0, c.nx, 5) / c.inv).tolist():
            if not idx.covering_leaves(lon, lat):
                assert idx._nearest(lon, lat) == idx._nearest_tree(lon, lat), (lon, lat)


@pytest.mark.parametrize("name", HAND_MADE)
def test_nearest_and_leaf_distances_on_hand_made_shapes(name: str) -> None:
    """Holes, islands, shared edges, overlaps, a repaired bow-tie: the kernels equal the oracle."""
    index = _hand_made(name)
    lons, lats = _around(index, 1500, 13, 1.0)
    tl, tt = _ties(index, 500, 14)
    lons, lats = np.concatenate([lons, tl]), np.concatenate([lats, tt])
    for lon, lat in zip(lons.tolist(), lats.tolist(), strict=True):
        if not index.covering_leaves(lon, lat):
            assert index._nearest(lon, lat) == index._nearest_tree(lon, lat), (name, lon, lat)
        for pos in range(len(index.leaves)):
            lo, hi = int(index._seg_offsets[pos]), int(index._seg_offsets[pos + 1])
            assert index._outside_distance_m(pos, lon, lat) == index._nearest_on_segments(
                np.arange(lo, hi), lon, lat)[1], (name, lon, lat)


def test_cell_lists_hold_every_possible_nearest(idx: JurisdictionIndex) -> None:
    """For random points, every segment within the point's nearest distance times the frames' ratio
    (all the tree's answer and the reach box can use) is on the point's cell's list."""
    c = idx._near_cells
    lons, lats = _around(idx, 300, 16, 0.5)
    k0 = idx._seg_k0
    lines = idx._seg_tree.geometries
    checked = 0
    for lon, lat in zip(lons.tolist(), lats.tolist(), strict=True):
        fi, fj = (lon - c.x0) * c.inv, (lat - c.y0) * c.inv
        if not (0 <= fi < c.nx and 0 <= fj < c.ny):
            continue
        cell = int(fj) * c.nx + int(fi)
        listed = set(c.items[c.start[cell]:c.end[cell]].tolist())
        if not listed:
            continue
        d = shapely.distance(shapely.points(lon * k0, lat), lines)
        r = lon_scale(lat) / k0
        need = np.flatnonzero(d <= d.min() * max(r, 1.0) / min(r, 1.0) * (1.0 + 1e-9) + 1e-12)
        assert set(need.tolist()) <= listed, (lon, lat)
        checked += 1
    assert checked > 250


def test_vertex_bound_is_an_upper_bound(idx: JurisdictionIndex) -> None:
    """The cheap per-cell distance is never below GEOS's nearest distance from the cell's centre."""
    c = idx._near_cells
    cs = 1.0 / c.inv
    bound = _vertex_distance_bound(idx._seg_tree_xy, idx._seg_k0, c.x0, c.y0, cs, c.nx, c.ny)
    cells = np.arange(0, c.nx * c.ny, 13)
    cx, cy = c.x0 + (cells % c.nx + 0.5) * cs, c.y0 + (cells // c.nx + 0.5) * cs
    _, d = idx._seg_tree.query_nearest(shapely.points(cx * idx._seg_k0, cy), return_distance=True,
                                       all_matches=False)
    assert np.all(bound[cells] >= d * (1.0 - 1e-12))
    assert np.median(bound[cells] - d) < cs  # and close: the lists stay short


def test_without_lists_the_tree_answers(idx: JurisdictionIndex) -> None:
    """A set too large for the lists (a national one) keeps the tree's search, with the same answers."""
    assert NearestCells.build(idx._seg_tree, idx._seg_tree_xy, idx._seg_k0, 0.01, 100, 0.4).nbytes == 0
    index = JurisdictionIndex.build(load_bali_units())
    index._near_cells = NearestCells.empty()
    for lon, lat in ((115.30, -8.72), (115.5, -8.9), (116.5, -10.5)):
        assert index._nearest(lon, lat) == idx._nearest_tree(lon, lat)


def test_empty_index_has_no_lists() -> None:
    index = JurisdictionIndex.build([])
    assert index._near_cells.nbytes == 0
    with pytest.raises(LookupError):
        index._nearest(0.0, 0.0)


def test_integer_coordinates_answer_as_floats_without_a_new_compile() -> None:
    """A Python caller passing ints gets the float answer, and no int64 kernel variant is compiled
    mid-request (numba compiles one per argument type)."""
    from geo_service.geo.bundled import load_bali_units
    from geo_service.geo.index import JurisdictionIndex
    from geo_service.geo.nearest_kernels import nearest_in_cell, nearest_on_slice
    from geo_service.geo.overlay_kernels import circle_cells

    idx = JurisdictionIndex.build(load_bali_units())
    before = [len(k.signatures) for k in (nearest_in_cell, nearest_on_slice, circle_cells)]
    for lon, lat, r in ((116, -9, 0), (115, -8, 500), (115, -9, 2000)):
        assert idx.locate(lon, lat, r).to_dict() == idx.locate(float(lon), float(lat), float(r)).to_dict()
        assert idx.classify_xy(lon, lat) == idx.classify_xy(float(lon), float(lat))
        assert idx.nearest_unit(lon, lat) == idx.nearest_unit(float(lon), float(lat))
    assert [len(k.signatures) for k in (nearest_in_cell, nearest_on_slice, circle_cells)] == before
