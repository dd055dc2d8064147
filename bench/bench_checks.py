"""Benchmark of the boundary checks on the nationwide regency file (514 units, 155k vertices).

Prints the time of each step and two ratios measured in the same run:

* overlap candidate search: STRtree query vs a brute-force all-pairs ``intersects`` (the baseline);
* the full ``check_units`` vs merely reading the file (a floor no check can beat).

Run: ``/work/venv/bin/python bench/bench_checks.py``
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import shapely
from shapely import STRtree

from geo_service.geo.area import Unit
from geo_service.geo.boundary_files import read_boundary_file, units_from_layer
from geo_service.geo.checks import check_units

DATA = Path(__file__).resolve().parents[1] / "boundaries" / "indonesia_kabupaten_kota.geojson"


def _timed(label: str, fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    print(f"{label:<48} {dt:8.2f} s")
    return out, dt


def main() -> None:
    """Run the benchmark and print timings and ratios."""
    data = DATA.read_bytes()
    raw, t_read = _timed("read_boundary_file (GeoJSON, 3.7 MB)", lambda: read_boundary_file(data, "kab.geojson"))
    (polres, _), _ = _timed("units_from_layer (level polres)", lambda: units_from_layer(raw, level="polres"))
    by_prov: dict[str, list] = defaultdict(list)
    for u in polres:
        by_prov[u.parent_code].append(u.geometry)
    poldas, _ = _timed("dissolve 38 Polda from their regencies", lambda: [
        Unit(p, p, "polda", None, shapely.union_all(g, grid_size=1e-6)) for p, g in by_prov.items()
    ])
    geoms = np.array([u.geometry for u in polres], dtype=object)

    def brute() -> int:
        i, j = np.triu_indices(len(geoms), k=1)
        return int(shapely.intersects(geoms[i], geoms[j]).sum())

    def tree() -> int:
        a, b = STRtree(geoms).query(geoms, predicate="intersects")
        return int((a < b).sum())

    n_brute, t_brute = _timed("baseline: all-pairs intersects (131,841 pairs)", brute)
    n_tree, t_tree = _timed("STRtree query, predicate=intersects", tree)
    assert n_brute == n_tree, (n_brute, n_tree)
    report, t_check = _timed("check_units (polda + polres, 552 units)", lambda: check_units(poldas + polres))
    print(f"intersecting pairs: {n_tree}; report: {len(report.errors)} errors, {len(report.warnings)} warnings")
    print(f"ratio STRtree / brute force:        {t_tree / t_brute:6.3f}")
    print(f"ratio check_units / read the file:  {t_check / t_read:6.1f}")


if __name__ == "__main__":
    main()
