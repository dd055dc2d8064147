"""Benchmark of ``distance.circle_ring`` (the 64 vertices of an uncertainty circle): the compiled direct
problem (geo/geodesic_kernels.py) against pyproj's ``Geod._fwd`` (``distance.circle_ring_pyproj``, the
previous path), measured in the same run on the same circles.

Circles: ``--circles`` centres across Indonesia (lat -11..6, lon 95..141) with radii 10 m .. 50 km. Each
round times every circle through both paths (alternating which goes first); the figure per path is the
best round's mean per call (us), over ``--rounds`` rounds. Also checks that both gave the same rings.

Run: ``.venv/bin/python bench/bench_ring.py [--circles 2000] [--rounds 15]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from geo_service.geo import distance


def _time(fn, circles: list[tuple[float, float, float]]) -> float:
    t0 = time.perf_counter()
    for lon, lat, r in circles:
        fn(lon, lat, r)
    return (time.perf_counter() - t0) / len(circles) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--circles", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    rng = np.random.default_rng(13)
    circles = [(float(lon), float(lat), float(r)) for lon, lat, r in zip(
        rng.uniform(95.0, 141.0, args.circles), rng.uniform(-11.0, 6.0, args.circles),
        np.exp(rng.uniform(np.log(10.0), np.log(5e4), args.circles)), strict=True)]
    same = all(np.array_equal(distance.circle_ring(*c).view(np.int64),
                              distance.circle_ring_pyproj(*c).view(np.int64)) for c in circles)
    kernel, pyproj = [], []
    for i in range(args.rounds):
        if i % 2:
            kernel.append(_time(distance.circle_ring, circles))
            pyproj.append(_time(distance.circle_ring_pyproj, circles))
        else:
            pyproj.append(_time(distance.circle_ring_pyproj, circles))
            kernel.append(_time(distance.circle_ring, circles))
    k, p = min(kernel), min(pyproj)
    print(f"circle_ring, 64 vertices, {args.circles} Indonesian circles, best of {args.rounds} rounds "
          f"(identical rings: {same})")
    print(f"  kernel (geodesic_kernels.ring): {k:6.2f} us/call  (median round {np.median(kernel):6.2f})")
    print(f"  pyproj (Geod._fwd in place):    {p:6.2f} us/call  (median round {np.median(pyproj):6.2f})")
    print(f"  ratio kernel/pyproj: {k / p:.2f}  (speed-up {p / k:.2f}x)")


if __name__ == "__main__":
    main()
