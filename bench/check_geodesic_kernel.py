"""Bit-for-bit check of the compiled direct problem (geo/geodesic_kernels.py) against pyproj's ``Geod.fwd``
on millions of inputs across the globe: the large run behind tests/geo/test_geodesic_kernel.py (which
checks 200,000 of the same kind in a few seconds).

Inputs as the test draws them (``random_inputs``): lat in [-90, 90] and lon in [-180, 180] with the exact
bounds mixed in, azimuths in [-360, 720], distances in [0, 20,000 km] (some tiny, some 0), in chunks of
``--chunk``; then ``--rings`` uncertainty circles across Indonesia (lat -11..6, lon 95..141, radii 1 cm ..
50 km, the 64 azimuths of ``distance._azimuths(64)``) and as many rings anywhere (``random_rings``: poles,
antimeridian, radii up to 20,000 km, vertex counts 8 .. 360). Prints, per output, how many of the 64-bit patterns
differ (``view(np.int64)``: -0.0 and 0.0 differ) and the first differing inputs, if any.

Run: ``.venv/bin/python bench/check_geodesic_kernel.py [--n 2500000] [--rings 20000]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "geo"))

from test_geodesic_kernel import random_inputs, random_rings  # noqa: E402

from geo_service.geo import distance  # noqa: E402
from geo_service.geo.geodesic_kernels import direct_many, ring  # noqa: E402
from geo_service.geo.geometry import GEOD  # noqa: E402


def _check_rings(label: str, rings: list[tuple[float, float, float, int]], examples: list[str]) -> None:
    """Compare ``ring`` with ``GEOD.fwd`` on each (lon, lat, radius, vertices); print the counts."""
    t0 = time.perf_counter()
    bad_rings = bad_vertices = vertices_done = 0
    for lon, lat, r, vertices in rings:
        azimuths = distance._azimuths(vertices)
        got = ring(lon, lat, r, azimuths)
        want_lon, want_lat, _ = GEOD.fwd(np.full(vertices, lon), np.full(vertices, lat), azimuths,
                                         np.full(vertices, r))
        diff = (got[:-1, 0].view(np.int64) != want_lon.view(np.int64)) | (
            got[:-1, 1].view(np.int64) != want_lat.view(np.int64))
        vertices_done += vertices
        if diff.any():
            bad_rings += 1
            bad_vertices += int(diff.sum())
            if len(examples) < 10:
                examples.append(f"ring({lon!r}, {lat!r}, {r!r}, {vertices}): {int(diff.sum())} vertices differ")
    print(f"{label}: {len(rings):,} rings ({vertices_done:,} vertices), rings differ {bad_rings}, "
          f"vertices differ {bad_vertices} ({time.perf_counter() - t0:.1f} s)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2_500_000, help="random global inputs (default 2,500,000)")
    ap.add_argument("--chunk", type=int, default=250_000)
    ap.add_argument("--rings", type=int, default=20_000, help="Indonesian rings of 64 vertices")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    t0 = time.perf_counter()
    done = bad_lon = bad_lat = 0
    examples: list[str] = []
    seed = args.seed
    while done < args.n:
        m = min(args.chunk, args.n - done)
        lons, lats, azis, dists = random_inputs(m, seed)
        seed += 1
        got_lon, got_lat = direct_many(lons, lats, azis, dists)
        want_lon, want_lat, _ = GEOD.fwd(lons, lats, azis, dists)
        dl = got_lon.view(np.int64) != want_lon.view(np.int64)
        da = got_lat.view(np.int64) != want_lat.view(np.int64)
        bad_lon += int(dl.sum())
        bad_lat += int(da.sum())
        for i in np.flatnonzero(dl | da)[: max(0, 10 - len(examples))]:
            examples.append(f"fwd({lons[i]!r}, {lats[i]!r}, {azis[i]!r}, {dists[i]!r}): kernel "
                            f"({got_lon[i]!r}, {got_lat[i]!r}) pyproj ({want_lon[i]!r}, {want_lat[i]!r})")
        done += m
    print(f"global: {done:,} inputs, lon differ {bad_lon}, lat differ {bad_lat} "
          f"({time.perf_counter() - t0:.1f} s)")

    rng = np.random.default_rng(args.seed + 1000)
    indonesian = [(float(lon), float(lat), float(r), 64) for lon, lat, r in zip(
        rng.uniform(95.0, 141.0, args.rings), rng.uniform(-11.0, 6.0, args.rings),
        np.exp(rng.uniform(np.log(0.01), np.log(5e4), args.rings)), strict=True)]
    _check_rings("Indonesian rings", indonesian, examples)
    _check_rings("rings anywhere", random_rings(args.rings, args.seed + 2000), examples)
    for e in examples:
        print("  " + e)
    return 0 if not (bad_lon or bad_lat or examples) else 1


if __name__ == "__main__":
    sys.exit(main())
