"""Per-call cost of ``StationIndex.nearest`` (one compiled call: candidates, geodesic distances, order)
against its pyproj path ``_nearest_pyproj`` (GEOD.inv per candidate, ``sorted``), on the bundled sample
stations, k = 3, for points across Bali (the locate mix's region), without and with a preferred unit.
Both run on the same points in the same process, alternating rounds; prints the median and best round
per call and the ratio, and checks the answers are the same.

Run: ``.venv/bin/python bench/bench_stations_nearest.py [--n 2000] [--rounds 15]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo_service.geo.stations import StationIndex, load_stations_geojson  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="points per round")
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    idx = StationIndex.build(load_stations_geojson())
    rng = np.random.default_rng(1)
    pts = list(zip(rng.uniform(114.45, 115.7, args.n).tolist(), rng.uniform(-8.85, -8.05, args.n).tolist(),
                   strict=True))
    units = sorted({s.unit_code for s in idx.stations})
    prefs = [units[int(i)] for i in rng.integers(0, len(units), args.n)]
    for (lon, lat), unit in zip(pts, prefs, strict=True):
        for p in (None, unit):
            if idx.nearest(lon, lat, 3, p) != idx._nearest_pyproj(lon, lat, 3, p):
                print("answers differ at", lon, lat, p)
                return 1
    for label, with_unit in (("no preferred unit", False), ("preferred unit", True)):
        times: dict[str, list[float]] = {"kernel": [], "pyproj": []}
        for _ in range(args.rounds):
            for name, fn in (("kernel", idx.nearest), ("pyproj", idx._nearest_pyproj)):
                t0 = time.perf_counter()
                if with_unit:
                    for (lon, lat), unit in zip(pts, prefs, strict=True):
                        fn(lon, lat, 3, unit)
                else:
                    for lon, lat in pts:
                        fn(lon, lat, 3)
                times[name].append((time.perf_counter() - t0) / args.n * 1e6)
        med = {k: statistics.median(v) for k, v in times.items()}
        best = {k: min(v) for k, v in times.items()}
        print(f"{label:<18} nearest (kernel) {med['kernel']:6.2f} us (best {best['kernel']:5.2f}), "
              f"pyproj path {med['pyproj']:6.2f} us (best {best['pyproj']:5.2f}), "
              f"ratio {med['pyproj'] / med['kernel']:4.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
