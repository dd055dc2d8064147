"""Tests of the in-memory jurisdiction index (geo_service.geo.index).

Real Bali data for realism, hand-made shapes in tests/data for the edge cases, and oracle
tests: the fast paths (cell grid, STRtree, batch) must agree with brute-force
``covers`` over every leaf.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from geo_service.errors import BoundaryFileError
from geo_service.geo.area import COASTAL_BAND_M, Unit
from geo_service.geo.bundled import load_bali_units
from geo_service.geo.distance import circle, distance_to_geometry_m
from geo_service.geo.index import (
    AT_SEA,
    CIRCLE_CROSSES_BORDER,
    ON_BORDER,
    OUTSIDE_SERVICE_AREA,
    OVERLAP,
    JurisdictionIndex,
    LocateResult,
)
from geo_service.geo.stations import load_stations_geojson

DATA = Path(__file__).resolve().parents[1] / "data"


def load_units(name: str) -> list[Unit]:
    """Units from a hand-made file in tests/data (properties code, name, level, parent_code)."""
    fc = json.loads((DATA / name).read_text(encoding="utf-8"))
    return [
        Unit(f["properties"]["code"], f["properties"]["name"], f["properties"]["level"],
             f["properties"]["parent_code"], shape(f["geometry"]))
        for f in fc["features"]
    ]


@pytest.fixture(scope="module")
def bali_units() -> list[Unit]:
    return load_bali_units()


@pytest.fixture(scope="module")
def idx(bali_units: list[Unit]) -> JurisdictionIndex:
    return JurisdictionIndex.build(bali_units, set_id=3, stations=load_stations_geojson())


@pytest.fixture(scope="module")
def idx_nogrid(bali_units: list[Unit]) -> JurisdictionIndex:
    return JurisdictionIndex.build(bali_units, set_id=3, use_grid=False)


@pytest.fixture(scope="module")
def polsek(bali_units: list[Unit]) -> list[Unit]:
    return sorted((u for u in bali_units if u.level == "polsek"), key=lambda u: u.code)


def brute_force(leaves: list[Unit], lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Slow reference: lowest-code leaf whose polygon covers each point (-1 if none)."""
    out = np.full(len(lons), -1, dtype=np.int64)
    for j in range(len(leaves) - 1, -1, -1):  # highest code first, so lower codes overwrite
        pts = shapely.points(lons, lats)
        out[shapely.covers(leaves[j].geometry, pts)] = j
    return out


def random_points_in(geom, n: int, rng: np.random.Generator) -> np.ndarray:
    xmin, ymin, xmax, ymax = geom.bounds
    got: list[np.ndarray] = []
    while sum(len(g) for g in got) < n:
        xy = np.column_stack([rng.uniform(xmin, xmax, 4 * n), rng.uniform(ymin, ymax, 4 * n)])
        got.append(xy[shapely.contains_xy(geom, xy[:, 0], xy[:, 1])])
    return np.concatenate(got)[:n]


# ------------------------------------------------------------------ structure

def test_build_is_structured(bali_units: list[Unit], idx: JurisdictionIndex) -> None:
    # Build time is measured in bench/bench_locate.py (the house rule: no timing asserts in tests).
    rebuilt = JurisdictionIndex.build(bali_units, stations=load_stations_geojson())
    assert rebuilt.leaf_codes == idx.leaf_codes
    assert len(idx.leaves) == 57 and all(u.level == "polsek" for u in idx.leaves)
    assert list(idx.leaf_codes) == sorted(idx.leaf_codes)
    assert idx.set_id == 3 and idx.unit("51").name == "Polda Bali"
    assert [u.code for u in idx.children("51.71")] == ["51.71.01", "51.71.02", "51.71.03", "51.71.04"]
    assert len(idx.descendants("51")) == 66
    chain = idx.chain("51.05.01")
    assert {k: u.code for k, u in chain.items()} == {"polsek": "51.05.01", "polres": "51.05", "polda": "51"}
    assert {k: u.code for k, u in idx.chain("51.05").items()} == {"polres": "51.05", "polda": "51"}
    with pytest.raises(KeyError):
        idx.unit("99")


def test_index_is_immutable(idx: JurisdictionIndex) -> None:
    with pytest.raises(AttributeError):
        idx.set_id = 4  # type: ignore[misc]
    with pytest.raises(TypeError):
        idx.units["x"] = idx.unit("51")  # type: ignore[index]
    with pytest.raises(TypeError):
        JurisdictionIndex()
    # chain() hands out copies: changing one does not change the index.
    c = idx.chain("51.01.01")
    c.clear()
    assert idx.chain("51.01.01")


# ------------------------------------------------------------- real Bali data

def test_points_inside_each_kecamatan(idx: JurisdictionIndex, polsek: list[Unit]) -> None:
    rng = np.random.default_rng(4)
    for u in polsek:
        rp = u.geometry.representative_point()
        pts = [(rp.x, rp.y), *random_points_in(u.geometry, 15, rng).tolist()]
        for lon, lat in pts:
            r = idx.locate(lon, lat, k_stations=0)
            assert r.match == "inside", (u.code, lon, lat)
            assert r.leaf is not None and r.leaf.code == u.code
            assert r.jurisdiction is not None
            assert r.jurisdiction["polres"].code == u.parent_code == u.code[:5]
            assert r.jurisdiction["polda"].code == "51"
            assert r.distance_m == 0.0 and r.flags == []


def shared_vertices(a: Unit, b: Unit) -> list[tuple[float, float]]:
    ca = {tuple(c) for c in shapely.get_coordinates(a.geometry).tolist()}
    cb = {tuple(c) for c in shapely.get_coordinates(b.geometry).tolist()}
    return sorted(ca & cb)


def test_points_on_shared_borders_go_to_lowest_code(idx: JurisdictionIndex, idx_nogrid: JurisdictionIndex,
                                                    polsek: list[Unit]) -> None:
    tree = shapely.STRtree([u.geometry for u in polsek])
    pairs = [(i, j) for i, j in tree.query([u.geometry for u in polsek], predicate="touches").T if i < j]
    assert len(pairs) > 100
    checked = 0
    for i, j in pairs[::3]:
        for lon, lat in shared_vertices(polsek[i], polsek[j])[::7][:4]:
            covering = [u.code for u in polsek if shapely.intersects_xy(u.geometry, lon, lat)]
            assert polsek[i].code in covering and polsek[j].code in covering
            for index in (idx, idx_nogrid):
                r = index.locate(lon, lat, k_stations=0)
                assert r.match == "inside"
                # Usually the pair's lower code; at a triple point, the lowest of all three.
                assert r.leaf is not None and r.leaf.code == min(covering) <= polsek[i].code
                assert ON_BORDER in r.flags
                assert sorted(c.leaf.code for c in r.candidates) == sorted(covering)
            checked += 1
    assert checked > 50


@pytest.mark.parametrize(("name", "lon", "lat", "code"), [
    ("Nusa Penida", 115.54, -8.73, "51.05.01"),
    ("Nusa Lembongan", 115.45, -8.68, "51.05.01"),
    ("Lake Batur", 115.40, -8.255, "51.06.04"),
    ("Lake Bratan", 115.165, -8.28, "51.02.09"),
    ("Menjangan", 114.51, -8.095, "51.08.01"),
    ("Serangan", 115.24, -8.725, "51.71.01"),
    ("Ngurah Rai runway, reclaimed west end", 115.155, -8.748, "51.03.01"),
    ("Ngurah Rai runway, middle", 115.17, -8.747, "51.03.01"),
    ("Gilimanuk", 114.435, -8.165, "51.01.04"),
])
def test_known_places(idx: JurisdictionIndex, name: str, lon: float, lat: float, code: str) -> None:
    r = idx.locate(lon, lat)
    assert (r.match, r.leaf.code if r.leaf else None) == ("inside", code), name
    # The responsible unit's (sample) station leads the station list.
    assert r.stations[0].station.unit_code == code
    assert all(s.station.sample for s in r.stations)


@pytest.mark.parametrize(("lon", "lat", "code"), [
    (114.40, -8.20, "51.01.04"),   # Bali Strait, off Melaya
    (114.41, -8.15, "51.01.04"),   # Bali Strait, north of Gilimanuk
    (115.30, -8.72, "51.71.01"),   # at sea off Sanur
])
def test_at_sea_within_coastal_band(idx: JurisdictionIndex, bali_units: list[Unit],
                                    lon: float, lat: float, code: str) -> None:
    assert not any(shapely.intersects_xy(u.geometry, lon, lat) for u in bali_units)  # really sea
    r = idx.locate(lon, lat)
    assert r.match == "nearest" and AT_SEA in r.flags
    assert r.leaf is not None and r.leaf.code == code
    assert r.jurisdiction is not None and r.jurisdiction["polres"].code == code[:5]
    expected = min(distance_to_geometry_m(lon, lat, u.geometry) for u in idx.leaves)
    assert 0 < r.distance_m < COASTAL_BAND_M
    assert r.distance_m == pytest.approx(expected, rel=1e-3)
    assert r.stations and r.stations[0].station.unit_code == code


def test_far_at_sea_is_outside(idx: JurisdictionIndex) -> None:
    r = idx.locate(116.5, -10.5)
    assert r.match == "none" and r.flags == [OUTSIDE_SERVICE_AREA]
    assert r.leaf is None and r.jurisdiction is None
    assert len(r.candidates) == 1 and r.candidates[0].distance_m > COASTAL_BAND_M
    assert r.distance_m == r.candidates[0].distance_m
    d = r.to_dict()
    assert d["jurisdiction"] is None and d["match"] == "none"
    assert d["candidates"][0]["polsek"]["code"] == r.candidates[0].leaf.code


def test_coastal_band_is_configurable(bali_units: list[Unit]) -> None:
    narrow = JurisdictionIndex.build(bali_units, coastal_band_m=1000.0)
    assert narrow.locate(115.30, -8.72).match == "none"   # ~4.3 km off Sanur
    assert narrow.classify_xy(115.30, -8.72).kind == "outside"


def test_nearest_unit_matches_brute_force(idx: JurisdictionIndex) -> None:
    rng = np.random.default_rng(9)
    xmin, ymin, xmax, ymax = 114.2, -9.1, 116.0, -7.8
    lons, lats = rng.uniform(xmin, xmax, 400), rng.uniform(ymin, ymax, 400)
    sea = idx.locate_many(lons, lats) < 0
    checked = 0
    for lon, lat in zip(lons[sea][:60], lats[sea][:60], strict=True):
        dists = sorted((distance_to_geometry_m(lon, lat, u.geometry), u.code) for u in idx.leaves)
        unit, d = idx.nearest_unit(lon, lat)
        assert d == pytest.approx(dists[0][0], rel=1e-3, abs=1.0)
        if dists[1][0] > dists[0][0] * 1.01:
            assert unit.code == dists[0][1]
        checked += 1
    assert checked >= 30


def test_uncertainty_circle_across_a_border(idx: JurisdictionIndex, polsek: list[Unit]) -> None:
    by_code = {u.code: u for u in polsek}
    a, b = by_code["51.71.03"], by_code["51.71.04"]  # Denpasar Barat / Denpasar Utara
    both = shapely.union(a.geometry, b.geometry)
    radius = 300.0
    for lon, lat in shared_vertices(a, b):
        if shapely.covers(both, circle(lon, lat, radius)):
            break
    else:
        pytest.fail("no shared vertex with a circle inside the two kecamatan")
    r = idx.locate(lon, lat, radius_m=radius)
    assert r.match == "border"
    assert CIRCLE_CROSSES_BORDER in r.flags
    shares = [c.share for c in r.candidates]
    assert shares == sorted(shares, reverse=True) and max(shares) < idx.border_share
    assert {c.leaf.code for c in r.candidates} == {"51.71.03", "51.71.04"}
    assert sum(c.share for c in r.candidates) == pytest.approx(1.0, abs=0.01)
    assert all(c.distance_m == 0.0 for c in r.candidates)
    assert r.leaf is not None and r.leaf.code == "51.71.03"  # the centre is on the border: lowest code


def test_small_circle_well_inside_is_inside(idx: JurisdictionIndex, polsek: list[Unit]) -> None:
    u = next(x for x in polsek if x.code == "51.06.04")
    rp = u.geometry.representative_point()
    r = idx.locate(rp.x, rp.y, radius_m=50.0)
    assert r.match == "inside" and r.candidates[0].share == pytest.approx(1.0, abs=1e-9)


def test_circle_at_sea_reaching_land(idx: JurisdictionIndex) -> None:
    r = idx.locate(115.30, -8.72, radius_m=6000.0)
    assert r.match == "nearest" and AT_SEA in r.flags
    assert r.candidates[0].share is not None and r.candidates[0].share > 0
    assert all(c.distance_m > 0 for c in r.candidates)


def test_to_dict_shape(idx: JurisdictionIndex) -> None:
    d = idx.locate(115.2167, -8.65).to_dict()
    assert set(d) == {"match", "jurisdiction", "distance_m", "candidates", "flags", "stations", "boundary_set"}
    assert set(d["jurisdiction"]) == {"polda", "polres", "polsek"}
    assert d["jurisdiction"]["polda"] == {"code": "51", "name": "Polda Bali"}
    assert d["boundary_set"] == 3
    st = d["stations"][0]
    assert set(st) == {"code", "name", "unit_code", "lat", "lon", "distance_m", "phone", "sample"}
    assert st["sample"] is True and st["unit_code"] == d["jurisdiction"]["polsek"]["code"]
    assert len(d["stations"]) == 3
    json.dumps(d)


def test_invalid_arguments(idx: JurisdictionIndex) -> None:
    with pytest.raises(ValueError):
        idx.locate(float("nan"), -8.5)
    with pytest.raises(ValueError):
        idx.locate(115.2, -8.5, radius_m=-1.0)


# ------------------------------------------------------------------ oracles

def test_locate_many_agrees_with_brute_force(idx: JurisdictionIndex, idx_nogrid: JurisdictionIndex) -> None:
    rng = np.random.default_rng(11)
    leaves = list(idx.leaves)
    lons = rng.uniform(114.40, 115.75, 6000)
    lats = rng.uniform(-8.87, -8.04, 6000)
    # Add points on and next to borders, where fast paths go wrong first.
    verts = shapely.get_coordinates(shapely.boundary(np.array([u.geometry for u in leaves])))
    pick = verts[rng.choice(len(verts), 2000, replace=False)]
    jitter = rng.normal(0.0, 2e-5, pick.shape)
    lons = np.concatenate([lons, pick[:, 0], pick[:, 0] + jitter[:, 0]])
    lats = np.concatenate([lats, pick[:, 1], pick[:, 1] + jitter[:, 1]])
    expected = brute_force(leaves, lons, lats)
    assert (expected >= 0).sum() > 3000 and (expected < 0).sum() > 1000
    np.testing.assert_array_equal(idx.locate_many(lons, lats), expected)
    np.testing.assert_array_equal(idx_nogrid.locate_many(lons, lats), expected)
    # The single-point path agrees too (a sample, to keep the test fast).
    for k in range(0, len(lons), 7):
        r = idx.locate(lons[k], lats[k], k_stations=0)
        got = -1 if r.match in ("nearest", "none") else idx.leaf_codes.index(r.leaf.code)
        assert got == expected[k], (lons[k], lats[k])


def test_batch_helpers(idx: JurisdictionIndex) -> None:
    lons = np.array([115.54, 115.30, 116.5])
    lats = np.array([-8.73, -8.72, -10.5])
    pos = idx.locate_many(lons, lats)
    assert idx.codes_for(pos).tolist() == ["51.05.01", None, None]
    chains = idx.chains_for(pos)
    assert chains[0]["polres"].code == "51.05" and chains[1] is None
    cpos, match, dist = idx.classify_many(lons, lats)
    assert match.tolist() == ["inside", "nearest", "none"]
    assert idx.codes_for(cpos).tolist()[:2] == ["51.05.01", "51.71.01"]
    assert dist[0] == 0.0
    assert dist[1] == pytest.approx(idx.locate(115.30, -8.72).distance_m, rel=1e-3)
    assert idx.locate_many([], []).shape == (0,)
    assert idx.locate_many([np.nan], [-8.5]).tolist() == [-1]


# --------------------------------------------------------- ServiceArea protocol

def test_service_area_protocol(idx: JurisdictionIndex) -> None:
    hit = idx.classify_xy(115.54, -8.73)
    assert (hit.kind, hit.unit_code, hit.distance_m) == ("inside", "51.05.01", 0.0)
    sea = idx.classify_xy(115.30, -8.72)
    assert sea.kind == "at_sea" and sea.unit_code == "51.71.01" and 0 < sea.distance_m < COASTAL_BAND_M
    assert idx.classify_xy(116.5, -10.5).kind == "outside"
    assert idx.unit_covers_xy("51.05.01", 115.54, -8.73)
    assert idx.unit_covers_xy("51.05", 115.54, -8.73)
    assert idx.unit_covers_xy("51", 115.54, -8.73)
    assert not idx.unit_covers_xy("51.71", 115.54, -8.73)
    assert not idx.unit_covers_xy("nope", 115.54, -8.73)
    for u in idx.units.values():
        lon, lat = idx.reference_point(u.code)
        assert idx.unit_covers_xy(u.code, lon, lat)
    assert idx.reference_point("nope") is None
    pts = idx.default_points()
    assert len(pts) == 57 + 57 and all(len(p) == 3 for p in pts)


# ------------------------------------------------------ hand-made edge cases

def test_shared_edge_rule() -> None:
    idx = JurisdictionIndex.build(load_units("shared_edge.geojson"))
    r = idx.locate(121.0, -4.5, k_stations=0)
    assert r.leaf.code == "9.01.01" and r.flags == [ON_BORDER]
    assert [c.leaf.code for c in r.candidates] == ["9.01.01", "9.01.02"]
    assert idx.locate(121.0001, -4.5).leaf.code == "9.01.02"
    assert idx.locate(120.9999, -4.5).leaf.code == "9.01.01"
    # the rule does not depend on the order of the input rows
    rev = JurisdictionIndex.build(list(reversed(load_units("shared_edge.geojson"))))
    assert rev.locate(121.0, -4.5).leaf.code == "9.01.01"
    assert rev.locate_many([121.0], [-4.5]).tolist() == [rev.leaf_codes.index("9.01.01")]


def test_hole() -> None:
    idx = JurisdictionIndex.build(load_units("hole.geojson"))
    assert idx.locate(120.5, -4.5).leaf.code == "9.01.01"
    assert idx.locate(121.0, -4.5).leaf.code == "9.01.02"     # island in the hole
    r = idx.locate(120.85, -4.5)                                # in the hole, not on the island
    assert r.match == "nearest" and AT_SEA in r.flags
    assert r.leaf.code in ("9.01.01", "9.01.02")
    assert 0 < r.distance_m < 6000
    assert idx.locate(120.8, -4.5).leaf.code == "9.01.01"      # on the hole's ring: covered
    assert idx.locate_many([120.85, 121.0, 120.8], [-4.5, -4.5, -4.5]).tolist() == [-1, 1, 0]


def test_overlap_lowest_code_wins() -> None:
    idx = JurisdictionIndex.build(load_units("overlap.geojson"))
    r = idx.locate(121.0, -4.5)
    assert r.leaf.code == "9.01.01" and OVERLAP in r.flags
    assert idx.locate(121.5, -4.5).leaf.code == "9.01.02"
    assert idx.locate_many([121.0, 121.5], [-4.5, -4.5]).tolist() == [0, 1]


def test_bowtie_is_repaired() -> None:
    units = load_units("bowtie.geojson")
    assert not next(u for u in units if u.code == "9.01.01").geometry.is_valid
    idx = JurisdictionIndex.build(units)
    assert idx.repaired == ("9.01.01",)
    assert idx.locate(120.3, -4.5).leaf.code == "9.01.01"    # left triangle
    assert idx.locate(121.7, -4.5).leaf.code == "9.01.01"    # right triangle
    r = idx.locate(121.0, -4.4)                               # between the triangles, ~10 km off
    assert r.match == "nearest" and r.leaf.code == "9.01.01" and 9000 < r.distance_m < 11000
    # the caller's geometry is not modified
    assert not next(u for u in units if u.code == "9.01.01").geometry.is_valid


def test_multipolygon_island() -> None:
    idx = JurisdictionIndex.build(load_units("island.geojson"))
    assert idx.locate(121.6, -4.5).leaf.code == "9.01.01"
    r = idx.locate(121.3, -4.5)
    assert r.match == "nearest" and r.leaf.code == "9.01.01"


def test_unit_without_children_answers_at_its_level() -> None:
    idx = JurisdictionIndex.build(load_units("no_children.geojson"))
    assert [u.code for u in idx.leaves] == ["9.01.01", "9.01.02", "9.02"]
    r = idx.locate(123.0, -4.5)
    assert r.match == "inside" and r.leaf.code == "9.02"
    assert set(r.jurisdiction) == {"polda", "polres"}
    d = r.to_dict()["jurisdiction"]
    assert d["polsek"] is None and d["polres"]["code"] == "9.02" and d["polda"]["code"] == "9"
    assert idx.locate(120.5, -4.5).jurisdiction["polsek"].code == "9.01.01"
    # The border between a Polsek and the childless Polres: lowest code wins (9.01.02 < 9.02).
    assert idx.locate(122.0, -4.5).leaf.code == "9.01.02"


def test_wrong_crs_is_refused() -> None:
    with pytest.raises(BoundaryFileError, match="projected"):
        JurisdictionIndex.build(load_units("wrong_crs.geojson"))


def test_bad_sets_are_refused() -> None:
    units = load_units("shared_edge.geojson")
    with pytest.raises(BoundaryFileError, match="duplicate"):
        JurisdictionIndex.build([*units, units[-1]])
    loop = [Unit("a", "A", "polres", "b", units[0].geometry), Unit("b", "B", "polda", "a", units[0].geometry)]
    with pytest.raises(BoundaryFileError, match="cycle"):
        JurisdictionIndex.build(loop)
    with pytest.raises(ValueError):
        JurisdictionIndex.build(units, border_share=0.0)


def test_empty_set() -> None:
    idx = JurisdictionIndex.build([])
    assert idx.locate_many([1.0], [1.0]).tolist() == [-1]
    assert idx.classify_xy(1.0, 1.0).kind == "outside"
    assert isinstance(idx, JurisdictionIndex) and not isinstance(idx, LocateResult)


def test_circle_shortcut_agrees_with_the_full_circle_computation() -> None:
    """With the cell grid, a small circle inside a cell no border crosses skips the polygon
    intersection; the answers must equal the index built without the grid."""
    from geo_service.geo.bundled import load_bali_units

    units = load_bali_units()
    fast = JurisdictionIndex.build(units)
    slow = JurisdictionIndex.build(units, use_grid=False)
    rng = np.random.default_rng(42)
    lons = rng.uniform(114.43, 115.71, 3000)
    lats = rng.uniform(-8.85, -8.06, 3000)
    for lon, lat, radius in zip(lons, lats, rng.choice([0.08, 1.0, 8.0, 55.0, 400.0], 3000), strict=True):
        a = fast.locate(float(lon), float(lat), radius_m=float(radius), k_stations=0)
        b = slow.locate(float(lon), float(lat), radius_m=float(radius), k_stations=0)
        assert (a.match, a.leaf and a.leaf.code, a.flags) == (b.match, b.leaf and b.leaf.code, b.flags), (lon, lat)
        assert [c.leaf.code for c in a.candidates] == [c.leaf.code for c in b.candidates]
        for ca, cb in zip(a.candidates, b.candidates, strict=True):
            assert ca.share == pytest.approx(cb.share, abs=1e-9)


# ------------------------------------------------- uncertainty circles: shortcuts vs plain overlay

def plain_circle_answer(idx: JurisdictionIndex, lon: float, lat: float, radius: float) -> dict[str, tuple[float, float]]:
    """Reference: every leaf's share from the plain overlay with the circle, and its distance
    measured on its whole border ({code: (share, distance_m)} for the leaves with a share)."""
    c = circle(lon, lat, radius)
    boxed = idx._tree.query(c)
    areas = shapely.area(shapely.intersection(idx._leaf_geoms[boxed], c))
    return {idx.leaf_codes[j]: (float(a / c.area), idx.leaf_distance_m(j, lon, lat))
            for j, a in zip(boxed.tolist(), areas.tolist(), strict=True) if a > 0.0}


def check_circles(idx: JurisdictionIndex, lons: np.ndarray, lats: np.ndarray, radii: np.ndarray) -> int:
    crossing = 0
    for lon, lat, radius in zip(lons.tolist(), lats.tolist(), radii.tolist(), strict=True):
        r = idx.locate(lon, lat, radius_m=radius, k_stations=0)
        want = plain_circle_answer(idx, lon, lat, radius)
        got = {c.leaf.code: (c.share, c.distance_m) for c in r.candidates if c.share}
        assert got.keys() == want.keys(), (lon, lat, radius)
        for code, (share, dist) in got.items():
            assert share == pytest.approx(want[code][0], abs=1e-9), (lon, lat, radius, code)
            assert dist == want[code][1], (lon, lat, radius, code)
        crossing += len(got) > 1
    return crossing


def test_circle_shares_agree_with_the_plain_overlay_on_bali(idx: JurisdictionIndex, polsek: list[Unit]) -> None:
    """The circle shortcuts (cells no border crosses; no border segment within the circle's
    reach: share 1 without overlay) give the plain overlay's answer."""
    rng = np.random.default_rng(13)
    lons, lats = rng.uniform(114.4, 115.75, 600), rng.uniform(-8.9, -8.0, 600)
    # and centres right beside shared borders, where circles cross them
    near = [xy for a, b in ((polsek[0], polsek[1]), (polsek[10], polsek[11]), (polsek[30], polsek[31]))
            for xy in shared_vertices(a, b)[::5][:100]]
    nx, ny = np.array(near).T + rng.normal(0.0, 0.003, (2, len(near)))
    lons, lats = np.concatenate([lons, nx]), np.concatenate([lats, ny])
    radii = rng.choice([1.0, 55.0, 100.0, 400.0, 780.0, 3000.0, 20000.0, 60000.0], len(lons))
    assert check_circles(idx, lons, lats, radii) > 100  # many of them do cross a border


@pytest.mark.parametrize("name", ["shared_edge.geojson", "hole.geojson", "overlap.geojson", "island.geojson",
                                  "bowtie.geojson", "no_children.geojson"])
def test_circle_shares_agree_with_the_plain_overlay_on_hand_made_shapes(name: str) -> None:
    idx = JurisdictionIndex.build(load_units(name))
    xmin, ymin, xmax, ymax = shapely.total_bounds(idx._leaf_geoms)
    rng = np.random.default_rng(7)
    lons, lats = rng.uniform(xmin - 0.2, xmax + 0.2, 300), rng.uniform(ymin - 0.2, ymax + 0.2, 300)
    check_circles(idx, lons, lats, rng.choice([500.0, 5000.0, 20000.0, 49000.0, 80000.0], 300))


def test_sea_circles_at_the_edge_of_the_coast_agree_with_the_plain_overlay(idx: JurisdictionIndex) -> None:
    """At sea a circle that no border segment comes within reach of overlaps no leaf (no ring, no
    overlay): radii from just short of the nearest coast to just past it, against the plain overlay."""
    rng = np.random.default_rng(37)
    lons, lats = rng.uniform(114.3, 115.9, 3000), rng.uniform(-9.0, -7.9, 3000)
    sea = idx.locate_many(lons, lats) < 0
    xs, ys, rs = [], [], []
    for lon, lat in zip(lons[sea][:250].tolist(), lats[sea][:250].tolist(), strict=True):
        _, dist = idx._nearest(lon, lat)
        for f in (0.9, 0.995, 0.999, 1.0, 1.001, 1.005, 1.1):
            if 50.0 <= dist * f <= 60_000.0:
                xs.append(lon)
                ys.append(lat)
                rs.append(dist * f)
    assert len(rs) > 1000
    check_circles(idx, np.array(xs), np.array(ys), np.array(rs))
    # and the hand-made holes: a centre in a hole is in no leaf either
    hole = JurisdictionIndex.build(load_units("hole.geojson"))
    xmin, ymin, xmax, ymax = shapely.total_bounds(hole._leaf_geoms)
    hx, hy = rng.uniform(xmin, xmax, 400), rng.uniform(ymin, ymax, 400)
    out = hole.locate_many(hx, hy) < 0
    assert out.sum() > 20
    check_circles(hole, hx[out], hy[out], rng.choice([100.0, 1000.0, 5000.0, 20000.0], int(out.sum())))


def test_circle_reach_bound_holds() -> None:
    """The bound the circle shortcut relies on: every vertex of the circle's ring lies within
    radius / 110,574 m (x 1.00006) of the centre in the frame isotropic at the centre, up to
    50 km and 60 degrees of latitude (the index keeps 0.1 % spare)."""
    from geo_service.geo.distance import lon_scale

    for lat in np.linspace(-60.0, 60.0, 25).tolist():
        for radius in (0.01, 1.0, 780.0, 5000.0, 20000.0, 50000.0):
            xy = shapely.get_coordinates(circle(100.0, lat, radius))
            reach = np.hypot((xy[:, 0] - 100.0) * lon_scale(lat), xy[:, 1] - lat).max()
            assert reach <= radius / 110_574.0 * 1.00006


def test_nearest_far_from_the_mean_latitude_is_the_nearest_at_the_points_scale(idx: JurisdictionIndex) -> None:
    """Where the point's scale differs from the segment tree's by more than 0.1 %, the nearest
    leaf is the one nearest at the point's own scale among *all* border segments (the same
    arithmetic run on every segment): the reach-box search must not miss any."""
    from geo_service.geo.distance import lon_scale

    rng = np.random.default_rng(21)
    lons, lats = rng.uniform(114.0, 116.2, 3000), np.concatenate([rng.uniform(-9.4, -8.85, 1500),
                                                                  rng.uniform(-8.05, -7.5, 1500)])
    every = np.arange(len(idx._seg_xy))
    checked = 0
    for lon, lat in zip(lons[idx.locate_many(lons, lats) < 0][:150].tolist(),
                        lats[idx.locate_many(lons, lats) < 0][:150].tolist(), strict=True):
        if abs(lon_scale(lat) / idx._seg_k0 - 1.0) <= 1e-3:
            continue
        assert idx._nearest(lon, lat) == idx._nearest_on_segments(every, lon, lat), (lon, lat)
        checked += 1
    assert checked >= 100


def test_circle_at_sea_short_of_land_overlaps_no_leaf(idx: JurisdictionIndex) -> None:
    """The overlay ``locate`` skips at sea (nearest leaf beyond the radius with the margin) would have
    found nothing: on random sea points with radii up to just short of that margin, and beyond."""
    from geo_service.geo.index import _SEA_CLEAR_FACTOR, _SEA_CLEAR_M

    rng = np.random.default_rng(17)
    lons, lats = rng.uniform(114.3, 115.9, 3000), rng.uniform(-9.0, -7.9, 3000)
    sea = idx.locate_many(lons, lats) < 0
    checked = 0
    for lon, lat in zip(lons[sea][:400].tolist(), lats[sea][:400].tolist(), strict=True):
        _, dist = idx._nearest(lon, lat)
        for f in (0.01, 0.5, 0.9, 0.99):
            radius = max((dist - _SEA_CLEAR_M) / _SEA_CLEAR_FACTOR * f, 0.01)
            assert idx._circle_shares(lon, lat, radius) == [], (lon, lat, radius)
            assert idx.locate(lon, lat, radius).candidates[0].share == 0.0
            checked += 1
        # Past the margin the overlay runs and finds the coast when the circle reaches it.
        assert idx._circle_shares(lon, lat, dist * 1.5 + 50.0) != []
    assert checked >= 1000


@pytest.mark.parametrize("name", ["shared_edge.geojson", "hole.geojson", "overlap.geojson", "island.geojson",
                                  "bowtie.geojson", "no_children.geojson"])
def test_locate_with_circles_answers_as_with_the_geos_overlay_on_hand_made_shapes(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled circle overlay (geo.overlay_kernels) changes no answer: the same located circles,
    with it and with the GEOS overlay alone, on holes, islands, overlaps and shared edges (centres
    anywhere, on vertices and on edges)."""
    idx = JurisdictionIndex.build(load_units(name))
    xmin, ymin, xmax, ymax = shapely.total_bounds(idx._leaf_geoms)
    rng = np.random.default_rng(23)
    lons = np.concatenate([rng.uniform(xmin - 0.2, xmax + 0.2, 300), idx._seg_xy[:, 0]])
    lats = np.concatenate([rng.uniform(ymin - 0.2, ymax + 0.2, 300), idx._seg_xy[:, 1]])
    radii = rng.choice([100.0, 780.0, 7800.0, 30000.0, 49000.0], len(lons))
    pts = list(zip(lons.tolist(), lats.tolist(), radii.tolist(), strict=True))
    kernel = [idx.locate(x, y, radius_m=r, k_stations=0).to_dict() for x, y, r in pts]
    monkeypatch.setattr(JurisdictionIndex, "_ring_shares", lambda *a, **k: None)
    assert [idx.locate(x, y, radius_m=r, k_stations=0).to_dict() for x, y, r in pts] == kernel
