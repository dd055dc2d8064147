"""Throughput of coordinate validation against a baseline measured in the same run.

Baseline: parse two floats from text and do one STRtree lookup (``tree.query(point)``) over the
Bali Polsek polygons: the least any validator must do. Measured: ``validate_coordinate`` one
call at a time (numbers, DMS text, decimal text, and decimal text inside a forwarded WhatsApp
message) and ``validate_many`` over a batch of 100,000 items.
The area is the real ``JurisdictionIndex`` when importable, else the simple STRtree stand-in of
``tests/geo/conftest.py``.

Run: ``python bench/bench_validate.py [--batch 100000] [--single 20000]``
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shapely import STRtree  # noqa: E402
from shapely.geometry import Point  # noqa: E402

from geo_service.geo.bundled import load_bali_units  # noqa: E402
from geo_service.geo.formats import format_dms  # noqa: E402
from geo_service.geo.validate import validate_coordinate, validate_many  # noqa: E402

BALI_BBOX = (114.43, -8.85, 115.72, -8.06)


def build_area(units: list[Any]) -> tuple[Any, str]:
    """The real JurisdictionIndex when importable, else the tests' SimpleBaliArea."""
    try:
        from geo_service.geo.index import JurisdictionIndex

        return JurisdictionIndex.build(units), "JurisdictionIndex"
    except Exception as exc:  # noqa: BLE001 - any failure means: use the stand-in
        print(f"(real index not usable: {type(exc).__name__}: {exc}; using the stand-in)")
    spec = importlib.util.spec_from_file_location("geo_conftest", ROOT / "tests" / "geo" / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SimpleBaliArea(units), "SimpleBaliArea (tests/geo/conftest.py)"


def sample_points(n: int, seed: int = 110) -> list[tuple[float, float]]:
    """Uniform points in Bali's bounding box (land, sea and a little outside), 6 decimals."""
    rng = random.Random(seed)
    x0, y0, x1, y1 = BALI_BBOX
    return [(round(rng.uniform(x0, x1), 6), round(rng.uniform(y0, y1), 6)) for _ in range(n)]


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>10,.0f} /s  ({seconds / n * 1e6:7.1f} us each)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=100_000)
    ap.add_argument("--single", type=int, default=20_000)
    args = ap.parse_args()

    units = load_bali_units()
    area, area_name = build_area(units)
    polsek = [u.geometry for u in units if u.level == "polsek"]
    tree = STRtree(polsek)
    for _ in range(2):  # warm-up: GEOS builds prepared indexes on second use
        area.classify_xy(115.22, -8.65)
        tree.query(Point(115.22, -8.65))
    print(f"area: {area_name}")

    points = sample_points(max(args.batch, args.single))
    texts = [(f"{lat}", f"{lon}") for lon, lat in points]

    n = args.single
    start = time.perf_counter()
    for lat_t, lon_t in texts[:n]:
        tree.query(Point(float(lon_t), float(lat_t)))
    base_s = time.perf_counter() - start
    print(f"baseline float parse + STRtree lookup : {rate(n, base_s)}")

    start = time.perf_counter()
    for lon, lat in points[:n]:
        validate_coordinate(lat=lat, lon=lon, area=area)
    single_s = time.perf_counter() - start
    print(f"validate_coordinate(lat, lon) single  : {rate(n, single_s)}  ratio {single_s / base_s:5.1f}x")

    m = max(1, n // 4)
    dms = [format_dms(lon, lat) for lon, lat in points[:m]]
    start = time.perf_counter()
    for text in dms:
        validate_coordinate(text=text, area=area)
    text_s = time.perf_counter() - start
    text_ratio = text_s / (base_s * m / n)
    print(f"validate_coordinate(text=DMS) single  : {rate(m, text_s)}  ratio {text_ratio:5.1f}x")

    dd = [f"{lat}, {lon}" for lon, lat in points[:m]]
    start = time.perf_counter()
    for text in dd:
        validate_coordinate(text=text, area=area)
    dd_s = time.perf_counter() - start
    print(f"validate_coordinate(text=DD) single   : {rate(m, dd_s)}  ratio {dd_s / (base_s * m / n):5.1f}x")

    msgs = [f"Pak tolong \U0001f64f\n{lat}, {lon}\n(dekat pasar) cepat ya" for lon, lat in points[:m]]
    start = time.perf_counter()
    for text in msgs:
        validate_coordinate(text=text, area=area)
    msg_s = time.perf_counter() - start
    print(f"validate_coordinate(text=message)     : {rate(m, msg_s)}  ratio {msg_s / (base_s * m / n):5.1f}x")

    items = [{"lat": lat, "lon": lon} for lon, lat in points[: args.batch]]
    start = time.perf_counter()
    results = validate_many(items, area)
    batch_s = time.perf_counter() - start
    base_batch_s = base_s * args.batch / n
    print(f"validate_many batch of {args.batch:,}      : {rate(args.batch, batch_s)}  "
          f"ratio {batch_s / base_batch_s:5.1f}x  (total {batch_s:.1f} s)")
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    print("statuses:", ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
