"""PostGIS against the in-memory index on the same points, measured in the same run.

Run: ``cd /work/main && /work/venv/bin/python bench/bench_postgis.py [--n-single 5000] [--n-batch 50000]``

Creates a temporary database on ``GEO_SERVICE_TEST_PG`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``), migrates it, publishes the bundled
Bali set (GiST index on the geometries) and answers the same random points four ways:

* single point, PostGIS: ``storage.spatial.locate_code_sql`` (one ``ST_Covers`` query, leaf rule,
  lowest code) over one kept connection, median per call;
* single point, in memory: ``JurisdictionIndex.locate(lon, lat, k_stations=0)`` median per call
  (and the bare covering-leaf lookup ``covering_leaves``, the same question as the SQL);
* batch, PostGIS: ``storage.spatial.locate_codes_sql`` in chunks of 20,000 points (one statement
  per chunk, ``unnest`` of two float arrays);
* batch, in memory: ``JurisdictionIndex.locate_many``.

Points: uniform in the bounding box of Bali (about 45 % on land). The answers are checked to be
identical (the oracle test in tests/storage does the same on fewer points).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo_service.geo.bundled import load_bali_units  # noqa: E402
from geo_service.geo.index import JurisdictionIndex  # noqa: E402
from geo_service.storage import db, repo, spatial  # noqa: E402

PG_ADMIN_URL = os.environ.get("GEO_SERVICE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
CHUNK = 20_000


def median_us(fn, lons: np.ndarray, lats: np.ndarray) -> float:
    """Median wall time of ``fn(lon, lat)`` in microseconds."""
    ts = np.empty(len(lons))
    for k, (lon, lat) in enumerate(zip(lons.tolist(), lats.tolist(), strict=True)):
        t = time.perf_counter_ns()
        fn(lon, lat)
        ts[k] = time.perf_counter_ns() - t
    return float(np.median(ts)) / 1000.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-single", type=int, default=5_000)
    ap.add_argument("--n-batch", type=int, default=50_000)
    args = ap.parse_args()
    name = f"geo_service_bench_{os.getpid()}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name)
    engine = create_engine(url)
    try:
        db.upgrade(engine)
        units = load_bali_units()
        with Session(engine) as session, session.begin():
            bset = repo.create_boundary_set(session, name="bench", units=units, source="bundled", created_by="bench")
            repo.publish_boundary_set(session, bset.id, actor="bench")
            set_id = bset.id
        with engine.connect() as conn:
            conn.execute(text("ANALYZE jurisdiction_units"))
            conn.commit()
        idx = JurisdictionIndex.build(units, set_id=set_id)
        rng = np.random.default_rng(2024)
        xmin, ymin, xmax, ymax = 114.43, -8.85, 115.72, -8.06
        sx, sy = rng.uniform(xmin, xmax, args.n_single), rng.uniform(ymin, ymax, args.n_single)
        bx, by = rng.uniform(xmin, xmax, args.n_batch), rng.uniform(ymin, ymax, args.n_batch)
        version = engine.connect().execute(text("SELECT postgis_lib_version()")).scalar()
        print(f"PostGIS {version}; Bali: {len(idx.leaves)} leaves; cores: {os.cpu_count()}")

        with Session(engine) as session:
            for lon, lat in zip(sx[:200].tolist(), sy[:200].tolist(), strict=True):  # warm the connection and cache
                spatial.locate_code_sql(session, set_id, lon, lat)
            pg_single = median_us(lambda lon, lat: spatial.locate_code_sql(session, set_id, lon, lat), sx, sy)
            got = [spatial.locate_code_sql(session, set_id, lon, lat)
                   for lon, lat in zip(sx[:1000].tolist(), sy[:1000].tolist(), strict=True)]
            assert got == idx.codes_for(idx.locate_many(sx[:1000], sy[:1000])).tolist(), "single answers differ"

            t = time.perf_counter()
            pg_codes: list[str | None] = []
            for k in range(0, args.n_batch, CHUNK):
                pg_codes += spatial.locate_codes_sql(session, set_id, bx[k:k + CHUNK], by[k:k + CHUNK])
            pg_batch_s = time.perf_counter() - t

        mem_single = median_us(lambda lon, lat: idx.locate(lon, lat, k_stations=0), sx, sy)
        mem_cover = median_us(idx.covering_leaves, sx, sy)
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            pos = idx.locate_many(bx, by)
            best = min(best, time.perf_counter() - t)
        assert pg_codes == idx.codes_for(pos).tolist(), "batch answers differ"

        n = args.n_batch
        print(f"single point, median of {args.n_single:,} ({(idx.locate_many(sx, sy) >= 0).mean():.0%} on land):")
        print(f"  PostGIS locate_code_sql (kept connection) {pg_single:8.1f} us")
        print(f"  index.locate (k_stations=0)               {mem_single:8.1f} us   PostGIS/memory {pg_single / mem_single:6.1f}x")
        print(f"  index.covering_leaves (same question)     {mem_cover:8.1f} us   PostGIS/memory {pg_single / mem_cover:6.1f}x")
        print(f"batch of {n:,} points ({(pos >= 0).mean():.0%} on land):")
        print(f"  PostGIS locate_codes_sql, chunks of {CHUNK:,} {pg_batch_s:7.2f} s  {n / pg_batch_s:12,.0f} points/s")
        print(f"  index.locate_many                       {best:7.3f} s  {n / best:12,.0f} points/s   "
              f"PostGIS/memory {pg_batch_s / best:6.0f}x")
        print("answers identical: yes")
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
