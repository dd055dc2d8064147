"""Benchmark of the jurisdiction index against baselines measured in the same run.

Run: ``cd /work/main && /work/venv/bin/python bench/bench_locate.py [--n-batch 1000000] [--national]``

Prints, for the Bali set (57 leaves):

* single point, in process: median ``locate(lon, lat)`` (with the default 3 stations) versus a
  bare prepared-STRtree contains query on the same index (``tree.query(Point)`` then
  ``contains_xy`` on the prepared candidates), median over 10k random points. Three point
  sets: uniform on land (the service area; the target "<= 3x" applies here), uniform in the
  bounding box (about 55 % sea) and sea only (the at-sea path also computes a geodesic
  distance to the nearest unit, which the bare query does not do).
* batch of N points (default 1,000,000, uniform in the bounding box): ``locate_many``
  versus the vectorised shapely two-step (``tree.query(points)`` then ``intersects_xy`` on
  prepared polygons) and versus ``geopandas.sjoin`` (predicate "intersects"), all starting
  from the same lon/lat arrays; results are checked to agree.

With ``--national`` the same is repeated on boundaries/indonesia_kecamatan.geojson
(7,285 leaves), with build time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import Point, shape

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo_service.geo.area import Unit  # noqa: E402
from geo_service.geo.bundled import load_bali_units  # noqa: E402
from geo_service.geo.index import JurisdictionIndex  # noqa: E402
from geo_service.geo.stations import load_stations_geojson  # noqa: E402

NATIONAL = Path(__file__).resolve().parents[1] / "boundaries" / "indonesia_kecamatan.geojson"


def median_us(fn, lons: np.ndarray, lats: np.ndarray) -> float:
    """Median wall time of ``fn(lon, lat)`` in microseconds."""
    ts = np.empty(len(lons))
    for k, (lon, lat) in enumerate(zip(lons.tolist(), lats.tolist(), strict=True)):
        t = time.perf_counter_ns()
        fn(lon, lat)
        ts[k] = time.perf_counter_ns() - t
    return float(np.median(ts)) / 1000.0


def best_of(fn, repeat: int = 3) -> tuple[float, object]:
    """Best wall time (seconds) over ``repeat`` runs, and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def land_points(idx: JurisdictionIndex, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    xmin, ymin, xmax, ymax = shapely.total_bounds(np.array([u.geometry for u in idx.leaves]))
    xs, ys = [], []
    while sum(len(x) for x in xs) < n:
        lx, ly = rng.uniform(xmin, xmax, 4 * n), rng.uniform(ymin, ymax, 4 * n)
        ok = idx.locate_many(lx, ly) >= 0
        xs.append(lx[ok])
        ys.append(ly[ok])
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def bench_single(idx: JurisdictionIndex, rng: np.random.Generator, n: int = 10_000) -> None:
    tree = idx._tree  # the same STRtree and prepared polygons the index uses
    polys = idx._leaf_geoms

    def bare(lon: float, lat: float) -> np.ndarray:
        cand = tree.query(Point(lon, lat))
        return cand[shapely.contains_xy(polys[cand], lon, lat)]

    xmin, ymin, xmax, ymax = shapely.total_bounds(polys)
    bx, by = rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n)
    lx, ly = land_points(idx, n, rng)
    sea = idx.locate_many(bx, by) < 0
    print(f"  single point, median of {n:,} calls (locate with k_stations=3 vs bare STRtree contains; "
          f"last column: vs locate on land):")
    land_us = 0.0
    for label, xs, ys, radius_m in (("on land (service area)", lx, ly, 0.0), ("bounding box", bx, by, 0.0),
                                    ("sea only", bx[sea], by[sea], 0.0), ("land, 100 m circle", lx, ly, 100.0),
                                    ("land, 780 m circle", lx, ly, 780.0)):
        base = median_us(bare, xs, ys)
        ours = median_us(lambda lon, lat, r=radius_m: idx.locate(lon, lat, radius_m=r), xs, ys)
        no_st = median_us(lambda lon, lat, r=radius_m: idx.locate(lon, lat, radius_m=r, k_stations=0), xs, ys)
        land_us = land_us or ours
        print(f"    {label:24s} locate {ours:6.1f} us  (no stations {no_st:5.1f} us)  bare {base:5.1f} us  "
              f"ratio {ours / base:4.2f}x  vs land {ours / land_us:4.2f}x")


def bench_batch(idx: JurisdictionIndex, rng: np.random.Generator, n: int, sjoin: bool = True) -> None:
    import geopandas as gpd

    tree = idx._tree
    polys = idx._leaf_geoms
    xmin, ymin, xmax, ymax = shapely.total_bounds(polys)
    lons, lats = rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n)

    def two_step() -> np.ndarray:
        in_idx, tree_idx = tree.query(shapely.points(lons, lats))
        hit = shapely.intersects_xy(polys[tree_idx], lons[in_idx], lats[in_idx])
        out = np.full(n, len(polys), dtype=np.int64)
        np.minimum.at(out, in_idx[hit], tree_idx[hit])
        out[out == len(polys)] = -1
        return out

    polys_gdf = gpd.GeoDataFrame({"pos": np.arange(len(polys))}, geometry=list(polys), crs="EPSG:4326")

    def with_sjoin() -> np.ndarray:
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lons, lats), crs="EPSG:4326")
        j = gpd.sjoin(pts, polys_gdf, how="left", predicate="intersects")
        pos = j["pos"].fillna(len(polys)).to_numpy(dtype=np.int64)
        out = np.full(n, len(polys), dtype=np.int64)
        np.minimum.at(out, j.index.to_numpy(), pos)
        out[out == len(polys)] = -1
        return out

    t_ours, ours = best_of(lambda: idx.locate_many(lons, lats))
    t_two, base = best_of(two_step)
    print(f"  batch of {n:,} points in the bounding box ({(ours >= 0).mean():.0%} covered):")
    print(f"    locate_many      {t_ours:6.3f} s  {n / t_ours / 1e6:5.2f} M points/s")
    print(f"    shapely two-step {t_two:6.3f} s  ratio ours/two-step {t_ours / t_two:4.2f}x (target <= 1.5x)")
    assert np.array_equal(ours, base), "locate_many disagrees with the two-step baseline"
    if sjoin:
        t_sj, sj = best_of(with_sjoin, repeat=1)
        print(f"    geopandas.sjoin  {t_sj:6.3f} s  ratio ours/sjoin    {t_ours / t_sj:4.2f}x (target <= 1.0x)")
        assert np.array_equal(ours, sj), "locate_many disagrees with geopandas.sjoin"
    miss = np.flatnonzero(ours < 0)[:100_000]
    t_near, _ = best_of(lambda: idx.nearest_many(lons[miss], lats[miss]), repeat=1)
    print(f"    nearest_many on {len(miss):,} misses {t_near:6.3f} s ({t_near / max(len(miss), 1) * 1e6:.1f} us/point)")


def load_national() -> list[Unit]:
    fc = json.loads(NATIONAL.read_text(encoding="utf-8"))
    return [Unit(f["properties"]["kode"], "Polsek " + f["properties"]["nama"], "polsek",
                 f["properties"].get("kode_kab"), shape(f["geometry"])) for f in fc["features"]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-batch", type=int, default=1_000_000)
    ap.add_argument("--n-single", type=int, default=10_000)
    ap.add_argument("--national", action="store_true", help="also run on the 7,285 national kecamatan")
    args = ap.parse_args()
    rng = np.random.default_rng(2024)

    units, stations = load_bali_units(), load_stations_geojson()
    t, idx = best_of(lambda: JurisdictionIndex.build(units, set_id=1, stations=stations), repeat=3)
    grid = idx._grid
    print(f"Bali: {len(idx.leaves)} leaves, build {t * 1000:.0f} ms, grid {grid.nx}x{grid.ny} cells of "
          f"{grid.cell_deg:.4f} deg ({grid.nbytes / 1e6:.1f} MB)")
    bench_single(idx, rng, args.n_single)
    bench_batch(idx, rng, args.n_batch)

    if args.national:
        if not NATIONAL.exists():
            print(f"national file not found: {NATIONAL}")
            return
        nat_units = load_national()
        t, nidx = best_of(lambda: JurisdictionIndex.build(nat_units, set_id=2), repeat=1)
        grid = nidx._grid
        print(f"National: {len(nidx.leaves)} leaves, build {t:.2f} s, grid {grid.nx}x{grid.ny} cells of "
              f"{grid.cell_deg:.4f} deg ({grid.nbytes / 1e6:.1f} MB); {len(nidx.repaired)} repaired")
        bench_single(nidx, rng, min(args.n_single, 5_000))
        bench_batch(nidx, rng, args.n_batch, sjoin=True)


if __name__ == "__main__":
    main()
