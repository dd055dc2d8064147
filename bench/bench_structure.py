"""The Polri structure (issue 14) against the administrative sets it replaced, in one run.

The bundled Bali default and the national set are now built from ``boundaries/police_structure.csv``
(Kuta and Kuta Selatan under Polresta Denpasar, special-area overlays, Polda that span provinces,
dated sets). The goal is that answering from them costs no more than 10 % over answering from the
old one-unit-per-administrative-area sets. Both sets of each pair are built here, and the same
random points are located in both:

* single ``locate`` (median over N points, stations off): Bali land points, Bali bounding box (sea
  included), national land points;
* ``locate_many`` over a batch in each bounding box (best of 3);
* the build: structure rows -> mapping -> dissolve -> overlays, vs reading the administrative files.

Run: ``python bench/bench_structure.py [--n-single 5000] [--n-batch 1000000] [--skip-national]``
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo_service.geo.area import Unit  # noqa: E402
from geo_service.geo.bundled import load_bali_units  # noqa: E402
from geo_service.geo.index import JurisdictionIndex  # noqa: E402
from geo_service.services import national  # noqa: E402
from geo_service.services.structure import load_bali_structure_units  # noqa: E402


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def median_us(idx: JurisdictionIndex, xs: np.ndarray, ys: np.ndarray) -> float:
    ts = np.empty(len(xs))
    for k, (x, y) in enumerate(zip(xs.tolist(), ys.tolist(), strict=True)):
        t = time.perf_counter_ns()
        idx.locate(x, y, k_stations=0)
        ts[k] = time.perf_counter_ns() - t
    return float(np.median(ts)) / 1000.0


def best_s(fn: Callable[[], Any], repeat: int = 3) -> float:
    return min(timed(fn)[0] for _ in range(repeat))


def points(admin: JurisdictionIndex, n: int, rng: np.random.Generator) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Land points (covered by the administrative set) and points over the whole bounding box."""
    xmin, ymin, xmax, ymax = shapely.total_bounds(np.array([u.geometry for u in admin.leaves]))
    bx, by = rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n)
    lx, ly = [], []
    while sum(len(x) for x in lx) < n:
        x, y = rng.uniform(xmin, xmax, 4 * n), rng.uniform(ymin, ymax, 4 * n)
        ok = admin.locate_many(x, y) >= 0
        lx.append(x[ok])
        ly.append(y[ok])
    return {"land": (np.concatenate(lx)[:n], np.concatenate(ly)[:n]), "bounding box": (bx, by)}


def compare(label: str, admin_units: list[Unit], struct_units: list[Unit], build_admin: float,
            build_struct: float, n_single: int, n_batch: int, rng: np.random.Generator) -> list[float]:
    t_ia, admin = timed(lambda: JurisdictionIndex.build(admin_units, set_id=1))
    t_is, struct = timed(lambda: JurisdictionIndex.build(struct_units, set_id=2))
    print(f"\n{label}: administrative {len(admin.leaves):,} leaves, structure {len(struct.leaves):,} leaves")
    print(f"  read/build units     admin {build_admin:7.2f} s   structure {build_struct:7.2f} s   "
          f"ratio {build_struct / build_admin:5.2f}x")
    print(f"  index build          admin {t_ia:7.2f} s   structure {t_is:7.2f} s   ratio {t_is / t_ia:5.2f}x")
    ratios = []
    for kind, (xs, ys) in points(admin, n_single, rng).items():
        # interleaved twice: the machine is shared, the better of two runs of each
        a = min(median_us(admin, xs, ys), median_us(admin, xs, ys))
        s = min(median_us(struct, xs, ys), median_us(struct, xs, ys))
        ratios.append(s / a)
        print(f"  locate, {kind:13s} admin {a:7.1f} us  structure {s:7.1f} us  ratio {s / a:5.2f}x  (goal <= 1.10x)")
    xmin, ymin, xmax, ymax = shapely.total_bounds(np.array([u.geometry for u in admin.leaves]))
    bx, by = rng.uniform(xmin, xmax, n_batch), rng.uniform(ymin, ymax, n_batch)
    a = best_s(lambda: admin.locate_many(bx, by))
    s = best_s(lambda: struct.locate_many(bx, by))
    ratios.append(s / a)
    print(f"  locate_many {n_batch:,}  admin {a:7.3f} s   structure {s:7.3f} s   ratio {s / a:5.2f}x  (goal <= 1.10x)")
    return ratios


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-single", type=int, default=5_000)
    ap.add_argument("--n-batch", type=int, default=1_000_000)
    ap.add_argument("--skip-national", action="store_true")
    ap.add_argument("--data-dir", default=str(ROOT / "boundaries"))
    args = ap.parse_args()
    rng = np.random.default_rng(14)

    t_a, bali_admin = timed(load_bali_units)
    t_s, (bali_struct, _report, _csv) = timed(load_bali_structure_units)
    ratios = compare("Bali (bundled default)", bali_admin, bali_struct, t_a, t_s, args.n_single, args.n_batch, rng)
    if not args.skip_national:
        data_dir = Path(args.data_dir)
        fine = load_bali_units()
        t_a, nat_admin = timed(lambda: national.build_national_set(data_dir, fine_units=fine, run_checks=False,
                                                                   admin_only=True))
        t_s, nat_struct = timed(lambda: national.build_national_set(data_dir, fine_units=load_bali_structure_units()[0],
                                                                    run_checks=False))
        ratios += compare("National", nat_admin.units, nat_struct.units, t_a, t_s, args.n_single, args.n_batch, rng)
    print(f"\nworst answering ratio structure/admin: {max(ratios):.2f}x (goal <= 1.10x)")


if __name__ == "__main__":
    main()
