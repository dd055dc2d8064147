"""Bit-for-bit check of the compiled inverse problem (geo/geodesic_kernels.py ``inverse``) against pyproj's
``Geod.inv`` on millions of pairs: the large run behind tests/geo/test_geodesic_inverse_kernel.py.

Pairs as the test draws them (``pairs(kind, ...)``), ``--global`` random global pairs (exact bounds,
signed zeros and unnormalised longitudes mixed in) and ``--each`` of every other kind: nearly antipodal,
equatorial, meridional, at or near the poles, identical points, separations of ~1e-12 degree and
Indonesia-scale pairs (lat -11..6, lon 95..141, 0..500 km), in chunks of ``--chunk``. Prints per kind how
many forward azimuths, back azimuths and distances differ in their 64-bit patterns (-0.0 and 0.0
differ) and the first differing pairs, if any.

Run: ``.venv/bin/python bench/check_geodesic_inverse_kernel.py [--global 3000000] [--each 1000000]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "geo"))

from test_geodesic_inverse_kernel import KINDS, differences, pairs  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--global", dest="n_global", type=int, default=3_000_000, help="random global pairs")
    ap.add_argument("--each", type=int, default=1_000_000, help="pairs of each other kind")
    ap.add_argument("--chunk", type=int, default=250_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    examples: list[str] = []
    total = total_bad = 0
    t_all = time.perf_counter()
    for k, kind in enumerate(KINDS):
        n = args.n_global if kind == "global" else args.each
        t0 = time.perf_counter()
        done = bad_az1 = bad_az2 = bad_s12 = 0
        seed = args.seed + 1_000_000 * k
        while done < n:
            m = min(args.chunk, n - done)
            lon1, lat1, lon2, lat2 = pairs(kind, m, seed)
            seed += 1
            d1, d2, ds, got, want = differences(lon1, lat1, lon2, lat2)
            bad_az1 += int(d1.sum())
            bad_az2 += int(d2.sum())
            bad_s12 += int(ds.sum())
            for i in np.flatnonzero(d1 | d2 | ds)[: max(0, 10 - len(examples))]:
                examples.append(f"{kind}: inv({lon1[i]!r}, {lat1[i]!r}, {lon2[i]!r}, {lat2[i]!r}): kernel "
                                f"{tuple(float(g[i]) for g in got)} pyproj {tuple(float(w[i]) for w in want)}")
            done += m
        total += done
        total_bad += bad_az1 + bad_az2 + bad_s12
        print(f"{kind:<11} {done:>10,} pairs: azi1 differ {bad_az1}, azi2 differ {bad_az2}, s12 differ {bad_s12} "
              f"({time.perf_counter() - t0:.1f} s)")
    print(f"all         {total:>10,} pairs, {total_bad} differences ({time.perf_counter() - t_all:.1f} s)")
    for e in examples:
        print("  " + e)
    return 1 if total_bad else 0


if __name__ == "__main__":
    sys.exit(main())
