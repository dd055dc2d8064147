"""The offline reference map on the national set: bytes and time per map view, against GeoJSON.

Run: ``python bench/bench_basemap.py``

Outlines: the 38 provinces (as Polda, filled as land), 514 regencies (Polres) and 7,285
kecamatan (Polsek) shipped in ``boundaries/``. For a 1400x900 map view at several zooms it
cuts every tile the view needs (cold: first cut; warm: second, from the simplification cache)
and sums the gzipped bytes. Baseline in the same run: the same units drawn as one GeoJSON
document (what the maps did before: every unit of the levels shown, intersecting the view,
simplified to the same tolerance, gzipped).
"""

from __future__ import annotations

import gzip
import json
import math
import time
from pathlib import Path

import geopandas as gpd
import shapely

from geo_service.geo.basemap import TILE_PX, Outline, ReferenceMap, tile_bounds, tile_of

ROOT = Path(__file__).resolve().parents[1] / "boundaries"
VIEWS = [("Indonesia", 5, 118.0, -2.5), ("Jawa", 7, 110.0, -7.3), ("Jawa Barat", 9, 107.2, -6.6),
         ("Jakarta", 11, 106.83, -6.2), ("Bali", 10, 115.2, -8.5), ("Denpasar", 13, 115.22, -8.67)]
W, H = 1400, 900


def view_tiles(z: int, lon: float, lat: float) -> list[tuple[int, int]]:
    cx, cy = tile_of(lon, lat, z)
    nx, ny = math.ceil(W / TILE_PX / 2) + 1, math.ceil(H / TILE_PX / 2) + 1
    n = 2 ** z
    return [(x, y) for x in range(cx - nx, cx + nx + 1) for y in range(cy - ny, cy + ny + 1) if 0 <= x < n and 0 <= y < n]


def main() -> None:
    t0 = time.perf_counter()
    prov = gpd.read_file(ROOT / "indonesia_provinsi.geojson")
    kab = gpd.read_file(ROOT / "indonesia_kabupaten_kota.geojson")
    kec = gpd.read_file(ROOT / "indonesia_kecamatan.geojson")
    outlines = ([Outline("polda", n, g, land=True) for n, g in zip(prov["nama"], prov.geometry, strict=True)]
                + [Outline("polres", n, g) for n, g in zip(kab["nama"], kab.geometry, strict=True)]
                + [Outline("polsek", n, g) for n, g in zip(kec["nama"], kec.geometry, strict=True)])
    ref = ReferenceMap(outlines)
    print(f"national outlines: {len(outlines):,} (read {time.perf_counter() - t0:.1f} s)")
    frames = {"polda": prov, "polres": kab, "polsek": kec}
    print(f"{'view':<12}{'z':>3}{'tiles':>6}{'ours gz':>11}{'cold':>9}{'warm':>8}{'GeoJSON gz':>12}{'time':>8}"
          f"{'bytes ours/GeoJSON':>20}")
    for name, z, lon, lat in VIEWS:
        tiles = view_tiles(z, lon, lat)
        t = time.perf_counter()
        sizes = [len(gzip.compress(json.dumps(ref.tile(z, x, y), separators=(",", ":")).encode()))
                 for x, y in tiles]
        cold = time.perf_counter() - t
        t = time.perf_counter()
        for x, y in tiles:
            ref.tile(z, x, y)
        warm = time.perf_counter() - t
        # Baseline: the levels drawn at this zoom, as GeoJSON features intersecting the view.
        xs = [tile_bounds(z, x, y) for x, y in tiles]
        view = shapely.box(min(b[0] for b in xs), min(b[1] for b in xs), max(b[2] for b in xs), max(b[3] for b in xs))
        levels = ["polda"] + (["polres"] if z >= 8 else []) + (["polsek"] if z >= 10 else [])
        tol = 0.75 * 360.0 / (TILE_PX * 2 ** z)
        t = time.perf_counter()
        features = []
        for level in levels:
            gdf = frames[level]
            sub = gdf[gdf.intersects(view)]
            geoms = shapely.simplify(sub.geometry.values, tol, preserve_topology=True)
            features += [{"type": "Feature", "properties": {"name": n, "level": level},
                          "geometry": shapely.geometry.mapping(g)} for n, g in zip(sub["nama"], geoms, strict=True)]
        base = gzip.compress(json.dumps({"type": "FeatureCollection", "features": features},
                                        separators=(",", ":")).encode())
        base_t = time.perf_counter() - t
        ours = sum(sizes)
        print(f"{name:<12}{z:>3}{len(tiles):>6}{ours:>11,}{cold:>8.2f}s{warm:>7.3f}s{len(base):>12,}{base_t:>7.2f}s"
              f"{ours / max(len(base), 1):>19.2f}x")


if __name__ == "__main__":
    main()
