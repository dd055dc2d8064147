"""Benchmark of the 110 call records (issue 16): importing N call rows and the national monthly report.

Generates a CSV of ``--n`` calls (default 1,000,000) over one month for a synthetic national hierarchy
(38 Polda x 12 Polres under MABES; 70 % ring a Polres first, overflow chains Polres -> Polda -> Mabes), then:

* baseline: ``pandas.read_csv`` of the same file (every cell as text), timed right before and after each
  import and the mean taken;
* ``services.calls.import_calls_file``: read, validate every row, upsert in one transaction
  (goal: under 3x the baseline);
* ``--parts``: each part of the import alone (read, row kernel, checks, write) before the import;
* the database floor: ``INSERT .. SELECT`` of the stored calls into an empty copy of the table (its key);
* the national monthly report (``calls_report`` for MABES: SQL GROUP BYs + roll-up; goal under 2 s) and one
  Polda report (reference: a bare ``GROUP BY first_unit`` count over the table, which holds that month),

on the embedded SQLite default and (``--postgis``) on a temporary PostGIS database on ``GEO_SERVICE_TEST_PG``.

Run: ``.venv/bin/python bench/bench_calls.py [--n 1000000] [--postgis]``
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from geo_service.geo.timezones import PROVINCE_ZONES
from geo_service.services import call_rows, calls
from geo_service.storage import calls as store
from geo_service.storage import db
from geo_service.storage.calls import CALL_COLUMNS, SQLITE_IMPORT_CACHE_KIB
from geo_service.storage.models import Call

PG_ADMIN_URL = os.environ.get("GEO_SERVICE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
OUTCOMES = calls.OUTCOMES
WEIGHTS = (20, 8, 5, 25, 30, 5, 6, 1)


def synthetic_hierarchy() -> calls.Hierarchy:
    nodes = {calls.MABES: calls.UnitNode(calls.MABES, calls.MABES_NAME, "mabes", None)}
    for polda in sorted(PROVINCE_ZONES):
        nodes[polda] = calls.UnitNode(polda, f"Polda {polda}", "polda", calls.MABES)
        for k in range(1, 13):
            code = f"{polda}.{k:02d}"
            nodes[code] = calls.UnitNode(code, f"Polres {code}", "polres", polda)
    return calls.Hierarchy(nodes)


def write_csv(path: Path, n: int, hierarchy: calls.Hierarchy, seed: int = 110, random_ids: bool = False) -> None:
    rng = random.Random(seed)
    poldas = hierarchy.children(calls.MABES)
    polres = {p: hierarchy.children(p) for p in poldas}
    start = datetime(2026, 10, 1, tzinfo=UTC)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(",".join(calls.COLUMNS) + "\n")
        for i in range(n):
            polda = rng.choice(poldas)
            r = rng.random()
            route = [rng.choice(polres[polda]), polda, calls.MABES] if r < 0.7 else \
                [polda, calls.MABES] if r < 0.95 else [calls.MABES]
            route = route[: rng.choice((1, 1, 2, 3))]
            t0 = start + timedelta(seconds=rng.randrange(31 * 86400))
            by, ans = "", ""
            for hop, code in enumerate(route):
                if rng.random() < 0.8:
                    by, ans = code, (t0 + timedelta(seconds=hop * 20 + rng.randrange(30))).isoformat()
                    break
            end = (t0 + timedelta(seconds=rng.randrange(40, 400))).isoformat()
            outcome = rng.choices(OUTCOMES, weights=WEIGHTS)[0] if by else "abandoned"
            call_id = f"{rng.getrandbits(128):032x}" if random_ids else f"B-{i}"
            fh.write(f"{call_id},{t0.isoformat()},{ans},{end},{by},{';'.join(route)},,{outcome},\n")


def timed(fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def read_csv_s(path: Path) -> float:
    """The baseline: ``pandas.read_csv`` of the file, every cell as text (timed again before each import, so
    a ratio compares two runs a few seconds apart on a shared machine)."""
    frame, seconds = timed(lambda: pd.read_csv(path, dtype=str, keep_default_na=False))
    del frame
    return seconds


def floor_insert_s(storage: db.Storage) -> float:
    """The database alone: ``INSERT ... SELECT`` of every stored call into an empty copy of ``calls`` with the
    same constraints and indexes (no CSV, no checks, no driver), rolled back. What no import can go below."""
    cols = ", ".join(("call_id", *CALL_COLUMNS))
    with storage.engine.connect() as conn:
        trans = conn.begin()
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("CREATE TABLE calls_floor (LIKE calls INCLUDING ALL)")
        else:
            conn.exec_driver_sql(f"PRAGMA cache_size = {-SQLITE_IMPORT_CACHE_KIB}")  # as the import has
            ddl = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE tbl_name = 'calls' "
                                       "AND sql IS NOT NULL").all()
            for (sql,) in ddl:
                sql = re.sub(r"\bcalls\b", "calls_floor", sql.replace("ix_calls_", "ix_floor_"))
                conn.exec_driver_sql(sql)
        copy_all = f"INSERT INTO calls_floor ({cols}) SELECT {cols} FROM calls"
        _none, seconds = timed(lambda: conn.exec_driver_sql(copy_all))
        trans.rollback()
        if conn.dialect.name == "sqlite":
            # back to the default: the pooled connection serves the reports next, and SQLite's sorter takes
            # the page cache size as its memory budget (a 256 MB one grouped a month in 1.8 s against 0.8 s)
            conn.exec_driver_sql("PRAGMA cache_size = -2000")
    return seconds


def time_parts(label: str, storage: db.Storage, path: Path, hierarchy: calls.Hierarchy) -> None:
    """Where the import's time goes: each part alone, one after the other, on the same file and the still
    empty table (rolled back), against ``read_csv`` of the same run. The import overlaps the database write
    of chunk k with reading and checking chunk k + 1, so it takes less than the sum."""
    known = set(hierarchy.nodes)
    now = datetime.now(UTC)
    before_s = read_csv_s(path)
    plain, read_s = timed(lambda: call_rows.plain_file(path.read_bytes(), calls.COLUMNS, calls.REQUIRED_COLUMNS))
    assert plain is not None
    step = 100_000
    chunks, scan_s = timed(lambda: [call_rows.read_chunk(plain, lo, min(lo + step, plain.rows))
                                    for lo in range(0, plain.rows, step)])
    with storage.engine.connect() as conn:
        trans = conn.begin()
        session = Session(bind=conn)
        form = store.bulk_format(session)
        seen = call_rows.SeenIds(plain)
        routes: dict = {}
        checked, check_s = timed(lambda: [calls._check_plain_chunk(c, known, seen, form=form, demo=False, now=now,
                                                                   routes_read=routes) for c in chunks])
        writer = store.CallWriter()
        _n, write_s = timed(lambda: [writer.write(session, batch) for batch, _values, _errors in checked])
        trans.rollback()
    baseline_s = (before_s + read_csv_s(path)) / 2
    for what, seconds in (("read_csv (baseline)", baseline_s), ("read bytes, line shape (kernel)", read_s),
                          ("row kernel (cells, times)", scan_s),
                          ("checks (kernels + frame)" + (", COPY data" if form == "copy" else ""), check_s),
                          (f"write ({form} built + written, empty table)", write_s)):
        print(f"[{label}] part: {what:34s} {seconds:7.2f} s  ratio {seconds / baseline_s:5.1f}x")


def warm_up(label: str, storage: db.Storage, hierarchy: calls.Hierarchy) -> None:
    """A first small import in this process, rolled back: numba loads the compiled kernels from its cache
    (or compiles them) on their first call. Printed, then excluded from the measured imports (a service
    process pays it once)."""
    with tempfile.TemporaryDirectory() as tmp, storage.engine.connect() as conn:
        small = Path(tmp) / "warm-up.csv"
        write_csv(small, 1_000, hierarchy, seed=7)
        trans = conn.begin()
        _result, seconds = timed(lambda: calls.import_calls_file(Session(bind=conn), small, hierarchy, actor="bench"))
        trans.rollback()
    print(f"[{label}] first import in this process (1,000 calls; loads the compiled kernels) {seconds:6.2f} s")


def run_backend(label: str, url: str, path: Path, hierarchy: calls.Hierarchy, *, parts: bool = False) -> None:
    storage = db.Storage(url, "postgresql" if url.startswith("postgresql") else "sqlite")
    db.upgrade(storage.engine)
    warm_up(label, storage, hierarchy)
    if parts:
        time_parts(label, storage, path, hierarchy)

    def do_import():  # type: ignore[no-untyped-def]
        with storage.transaction() as session:
            return calls.import_calls_file(session, path, hierarchy, actor="bench")

    # The baseline is timed right before and right after each measurement and the mean taken: the load of a
    # shared machine moves read_csv alone by 2-3x within minutes.
    for what in ("import_calls_file", "re-import (same file)", "floor"):
        before_s = read_csv_s(path)
        if what == "floor":
            result, import_s = None, floor_insert_s(storage)
        else:
            result, import_s = timed(do_import)
        after_s = read_csv_s(path)
        baseline_s = (before_s + after_s) / 2
        head = "floor: INSERT .. SELECT into an indexed copy" if result is None else f"{what:24s}"
        tail = "" if result is None else (f"  {result.rows / import_s:9,.0f} rows/s  created {result.created:,} "
                                          f"updated {result.updated:,} rejected {len(result.errors)}")
        goal = " (goal < 3x)" if result is not None else " (the database alone)"
        print(f"[{label}] {head} {import_s:7.2f} s  read_csv {before_s:5.2f}/{after_s:5.2f} s  "
              f"ratio {import_s / baseline_s:5.1f}x{goal}{tail}")
    with storage.session() as session:
        # Reference: the cheapest aggregate over the same calls (the table holds just this month): one count
        # per first unit, which each backend may answer from the report index alone.
        bare = select(Call.first_unit, func.count()).group_by(Call.first_unit)
        for unit in (calls.MABES, calls.MABES, "51"):
            _rows, bare_s = timed(lambda: session.execute(bare).all())
            report, report_s = timed(lambda u=unit: calls.calls_report(session, hierarchy, unit_code=u,
                                                                       month="2026-10"))
            print(f"[{label}] monthly report {unit:6s}   {report_s:7.3f} s  (goal < 2 s)  bare GROUP BY first unit "
                  f"{bare_s:6.3f} s  ratio {report_s / bare_s:4.1f}x  offered {report['calls']['offered']:,}  "
                  f"answer rate {report['calls']['answer_rate']}")
    storage.engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--postgis", action="store_true")
    parser.add_argument("--csv", type=Path, help="use this file written by an earlier run (same --n) instead")
    parser.add_argument("--parts", action="store_true", help="first time each part of the import alone")
    parser.add_argument("--random-ids", action="store_true",
                        help="call ids as 32 random hex digits (a UUID-like export) instead of B-<n> in file order")
    args = parser.parse_args()
    hierarchy = synthetic_hierarchy()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.csv or Path(tmp) / "calls.csv"
        if args.csv is None:
            _none, gen_s = timed(lambda: write_csv(path, args.n, hierarchy, random_ids=args.random_ids))
            print(f"generated {args.n:,} calls ({path.stat().st_size / 1e6:.0f} MB) in {gen_s:.1f} s; "
                  f"{len(hierarchy.nodes)} units")
        run_backend("sqlite", f"sqlite:///{tmp}/bench.sqlite3", path, hierarchy, parts=args.parts)
        if args.postgis:
            name = f"geo_service_bench_calls_{os.getpid()}"
            admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
                run_backend("postgis", url, path, hierarchy, parts=args.parts)
            finally:
                with admin.connect() as conn:
                    conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                                 {"n": name})
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
