"""Before/after of the geometry core in one process: this tree's ``geo_service.geo`` against another's.

The other tree (a checkout or ``git archive`` of the commit to compare with) is copied to a temporary
directory with its package renamed ``geo_service_base``, so both import side by side. Every figure is
measured *interleaved*: for each point the baseline, the other tree and this tree are called one
after the other (in a rotating order), so a load that comes and goes on a shared machine weighs on
all three alike; medians of the per-call wall times are printed, with ratios to the baselines of
``bench_validate.py`` (float parse + STRtree lookup) and ``bench_locate.py`` (bare prepared STRtree
contains), and this tree over the other.

Run: ``python bench/bench_geo_ab.py --base /tmp/base-tree [--n 3000] [--compare 5000]``

``--compare N`` first checks that both trees answer alike: ``JurisdictionIndex.locate(...).to_dict()`` (match,
unit, shares and distances as printed, flags, candidates in order, stations) on N random points with
uncertainty radii (2-decimal and 3-decimal points of the rounded-coordinate circles, uniform points in
Bali's box with radii up to 60 km, and centres on and beside border vertices), and prints how many differ.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry import Point

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

BALI_BBOX = (114.43, -8.85, 115.72, -8.06)


def import_base(tree: Path) -> dict[str, Any]:
    """The other tree's geo modules, imported as ``geo_service_base``."""
    tmp = Path(tempfile.mkdtemp(prefix="geo_ab_"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    shutil.copytree(tree / "geo_service", tmp / "geo_service_base")
    # The bundled data is read relative to the package: a link is enough.
    (tmp / "boundaries").symlink_to((tree / "boundaries").resolve())
    for path in (tmp / "geo_service_base").rglob("*.py"):
        path.write_text(re.sub(r"\bgeo_service\b", "geo_service_base", path.read_text(encoding="utf-8")),
                        encoding="utf-8")
    sys.path.insert(0, str(tmp))
    names = ("geo.index", "geo.validate", "geo.bundled", "geo.stations", "services.locate")
    return {n.split(".")[1]: importlib.import_module(f"geo_service_base.{n}") for n in names}


def medians(fns: list[Callable[[float, float], Any]], xs: np.ndarray, ys: np.ndarray) -> list[float]:
    """Median wall time (us) of each function over the points, called interleaved."""
    ts = np.empty((len(fns), len(xs)))
    for k, (x, y) in enumerate(zip(xs.tolist(), ys.tolist(), strict=True)):
        for j in range(len(fns)):
            i = (j + k) % len(fns)
            t = time.perf_counter_ns()
            fns[i](x, y)
            ts[i, k] = time.perf_counter_ns() - t
    return [float(v) / 1000.0 for v in np.median(ts, axis=1)]


def locate_with(index: Any, radius_m: float) -> Callable[[float, float], Any]:
    """``index.locate`` at a fixed radius."""
    def call(lon: float, lat: float) -> Any:
        return index.locate(lon, lat, radius_m=radius_m)
    return call


def body_call(locate_location: Any, body: dict[str, Any], index: Any) -> Callable[[float, float], Any]:
    """``locate_location(body, index)``, ignoring the point arguments of :func:`medians`."""
    def call(_lon: float, _lat: float) -> Any:
        return locate_location(body, index)
    return call


def compare_answers(old: Any, new: Any, n: int, rng: np.random.Generator) -> None:
    """Count the points where the two trees' ``locate(...).to_dict()`` differ (see the module docstring)."""
    k = n // 4
    segs = new._seg_xy[rng.integers(0, len(new._seg_xy), k)]
    x0, y0, x1, y1 = BALI_BBOX
    cases = [
        (np.round(rng.uniform(114.45, 115.7, k), 2), np.round(rng.uniform(-8.85, -8.1, k), 2), np.full(k, 780.0)),
        (np.round(rng.uniform(114.45, 115.7, k), 3), np.round(rng.uniform(-8.85, -8.1, k), 3), np.full(k, 78.0)),
        (rng.uniform(x0, x1, k), rng.uniform(y0, y1, k),
         rng.choice([50.0, 100.0, 780.0, 3000.0, 7800.0, 20000.0, 60000.0], k)),
        (segs[:, 0] + rng.choice([0.0, 1.0], k) * rng.normal(0.0, 0.001, k),
         segs[:, 1] + rng.choice([0.0, 1.0], k) * rng.normal(0.0, 0.001, k), rng.choice([78.0, 780.0, 5000.0], k)),
    ]
    differ = crossing = total = 0
    for xs, ys, rs in cases:
        for x, y, r in zip(xs.tolist(), ys.tolist(), rs.tolist(), strict=True):
            a, b = old.locate(x, y, radius_m=r).to_dict(), new.locate(x, y, radius_m=r).to_dict()
            total += 1
            crossing += len(b["candidates"]) > 1
            if a != b:
                differ += 1
                print("  DIFFERENT:", (x, y, r), a, b)
    print(f"answers compared: {total:,} points with a radius ({crossing:,} circles crossing a border): "
          f"{differ} differ")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, required=True, help="the other tree (with geo_service/ and boundaries/)")
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--compare", type=int, default=0, help="first compare both trees' answers on this many points")
    args = ap.parse_args()
    base = import_base(args.base)
    from bench_locate import land_points

    from geo_service.geo.bundled import load_bali_units
    from geo_service.geo.index import JurisdictionIndex
    from geo_service.geo.stations import load_stations_geojson
    from geo_service.geo.validate import validate_coordinate

    units, stations = load_bali_units(), load_stations_geojson()
    new = JurisdictionIndex.build(units, set_id=1, stations=stations)
    b_units = base["bundled"].load_bali_units()
    b_stations = base["stations"].load_stations_geojson()
    old = base["index"].JurisdictionIndex.build(b_units, set_id=1, stations=b_stations)
    old_validate = base["validate"].validate_coordinate
    tree = STRtree([u.geometry for u in units if u.level == "polsek"])
    polys = new._leaf_geoms
    for _ in range(2):
        tree.query(Point(115.22, -8.65))
        old.classify_xy(115.22, -8.65)
        new.classify_xy(115.22, -8.65)

    rng = np.random.default_rng(110)
    n = args.n
    x0, y0, x1, y1 = BALI_BBOX
    bx, by = np.round(rng.uniform(x0, x1, n), 6), np.round(rng.uniform(y0, y1, n), 6)
    print(f"validate_coordinate(lat, lon), {n:,} points uniform in Bali's box (6 decimals), median per call:")
    texts = {(x, y): (repr(y), repr(x)) for x, y in zip(bx.tolist(), by.tolist(), strict=True)}

    def parse_lookup(x: float, y: float) -> Any:
        lat_t, lon_t = texts[(x, y)]
        return tree.query(Point(float(lon_t), float(lat_t)))

    sea = new.locate_many(bx, by) < 0
    for label, sel in (("all", np.ones(n, dtype=bool)), ("land", ~sea), ("sea", sea)):
        b, o, w = medians([parse_lookup, lambda x, y: old_validate(lat=y, lon=x, area=old),
                           lambda x, y: validate_coordinate(lat=y, lon=x, area=new)], bx[sel], by[sel])
        print(f"  {label:5s} baseline {b:6.1f} us | before {o:6.1f} us ({o / b:4.2f}x) | after {w:6.1f} us "
              f"({w / b:4.2f}x) | after/before {w / o:4.2f}")

    def bare(x: float, y: float) -> Any:
        cand = tree.query(Point(x, y))
        return cand[shapely.contains_xy(polys[cand], x, y)]

    if args.compare:
        compare_answers(old, new, args.compare, np.random.default_rng(2026))

    lx, ly = land_points(new, n, rng)
    print("JurisdictionIndex.locate (k_stations=3), median per call; 'vs land' = over locate on land of the same tree:")
    land = None
    for label, xs, ys, r in (("on land", lx, ly, 0.0), ("bounding box", bx, by, 0.0), ("sea only", bx[sea], by[sea], 0.0),
                             ("land, 100 m circle", lx, ly, 100.0), ("land, 780 m circle", lx, ly, 780.0),
                             ("land, 7.8 km circle", lx, ly, 7800.0)):
        b, o, w = medians([bare, locate_with(old, r), locate_with(new, r)], xs, ys)
        land = land or (o, w)
        print(f"  {label:20s} bare {b:5.1f} us | before {o:6.1f} us (vs land {o / land[0]:5.2f}x) | "
              f"after {w:6.1f} us (vs land {w / land[1]:5.2f}x) | after/before {w / o:4.2f}")

    # The circles of the 780 m row that cross a border (more than one candidate): those the overlay serves.
    cross = np.array([len(new.locate(x, y, radius_m=780.0, k_stations=0).candidates) > 1
                      for x, y in zip(lx.tolist(), ly.tolist(), strict=True)])
    b, o, w = medians([bare, locate_with(old, 780.0), locate_with(new, 780.0)], lx[cross], ly[cross])
    assert land is not None
    print(f"  {'780 m, crossing only':20s} bare {b:5.1f} us | before {o:6.1f} us (vs land {o / land[0]:5.2f}x) | "
          f"after {w:6.1f} us (vs land {w / land[1]:5.2f}x) | after/before {w / o:4.2f}   "
          f"({int(cross.sum())} of {len(lx)} circles)")

    # The request of profile_request.py without the web layer: validate + locate + typed answer.
    from profile_request import MIX

    from geo_service.services.locate import locate_location
    old_locate = base["locate"].locate_location
    reps = max(1, n // 10)
    print(f"services.locate.locate_location on the mix of profile_request.py, median of {reps} calls per body:")
    tot_o = tot_w = 0.0
    for body in MIX:
        zs = np.zeros(reps)
        o, w = medians([body_call(old_locate, body, old), body_call(locate_location, body, new)], zs, zs)
        tot_o, tot_w = tot_o + o, tot_w + w
        print(f"  {str(body):42s} before {o:6.1f} us | after {w:6.1f} us | after/before {w / o:4.2f}")
    print(f"  {'mix (sum of the six)':42s} before {tot_o:6.1f} us | after {tot_w:6.1f} us | after/before {tot_w / tot_o:4.2f}")


if __name__ == "__main__":
    main()
