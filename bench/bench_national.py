"""National set benchmark: the merged national set next to the Bali set and to bare shapely, in one run.

Run: ``cd /work/main && /work/venv/bin/python bench/bench_national.py [--data-dir boundaries]
[--n-batch 1000000] [--seconds 10] [--workers 4] [--postgis]`` (a few minutes; not part of the tests).

Prints:

* build: reading the three national files into units and merging Bali (``services.national``),
  then ``JurisdictionIndex.build``;
* in process, single point: median ``locate(lon, lat)`` over random land points, national vs
  Bali vs bare shapely (``STRtree.query(Point)`` then ``contains_xy`` on the prepared national
  polygons);
* in process, batch of N points (default 1M) uniform in the set's bounding box: ``locate_many``
  national vs Bali vs the bare vectorised shapely two-step on the national polygons;
* over HTTP: ``geo-service serve`` (gunicorn, ``--workers`` sync workers, SQLite default) on each
  set, driven by ``wrk`` (``/usr/bin/wrk`` with a Lua script POSTing ``/api/v1/locate`` bodies from
  a list of points) or, without wrk, a Python multi-process client; requests/s and latency;
  the goal is national <= 1.5x Bali per request;
* start-up: from starting ``geo-service serve`` to the first answered ``/api/v1/locate``;
* memory of the arbiter and of every worker from ``/proc/<pid>/smaps_rollup``: RSS, PSS and
  USS (private clean + private dirty) after start-up and after the load; a worker's USS is what
  it does *not* share with the arbiter (the index is built before the fork, ``preload_app``).

With ``--postgis`` the national start-up and memory are also measured on PostGIS (a scratch
database on 127.0.0.1:5432, dropped at the end).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo_service.geo.area import Unit  # noqa: E402
from geo_service.geo.bundled import load_bali_units  # noqa: E402
from geo_service.geo.index import JurisdictionIndex  # noqa: E402
from geo_service.services import national  # noqa: E402

SECRET = "bench-national-secret-0123456789abcdef"
LUA = """
local bodies = {%s}
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
request = function()
  i = i %% #bodies + 1
  return wrk.format(nil, "/api/v1/locate", nil, bodies[i])
end
"""


# ------------------------------------------------------------------ in process


def median_us(fn: Any, lons: np.ndarray, lats: np.ndarray) -> float:
    """Median wall time of ``fn(lon, lat)`` in microseconds."""
    ts = np.empty(len(lons))
    for k, (lon, lat) in enumerate(zip(lons.tolist(), lats.tolist(), strict=True)):
        t = time.perf_counter_ns()
        fn(lon, lat)
        ts[k] = time.perf_counter_ns() - t
    return float(np.median(ts)) / 1000.0


def best_of(fn: Any, repeat: int = 3) -> tuple[float, Any]:
    """Best wall time (seconds) over ``repeat`` runs, and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def land_points(idx: JurisdictionIndex, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random points covered by a leaf of ``idx``."""
    xmin, ymin, xmax, ymax = shapely.total_bounds(np.array([u.geometry for u in idx.leaves]))
    xs, ys = [], []
    while sum(len(x) for x in xs) < n:
        lx, ly = rng.uniform(xmin, xmax, 8 * n), rng.uniform(ymin, ymax, 8 * n)
        ok = idx.locate_many(lx, ly) >= 0
        xs.append(lx[ok])
        ys.append(ly[ok])
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


class BareShapely:
    """The baseline: an STRtree over prepared copies of the leaf polygons, nothing else."""

    def __init__(self, units: list[Unit]) -> None:
        leaves = {u.parent_code for u in units}
        self.polys = np.array([u.geometry for u in units if u.code not in leaves], dtype=object)
        self.polys = shapely.transform(self.polys, lambda xy: xy)
        shapely.prepare(self.polys)
        self.tree = shapely.STRtree(self.polys)
        for _ in range(2):  # GEOS builds the prepared index on the second use
            c = shapely.point_on_surface(self.polys)
            shapely.contains_xy(self.polys, shapely.get_x(c), shapely.get_y(c))

    def one(self, lon: float, lat: float) -> np.ndarray:
        cand = self.tree.query(Point(lon, lat))
        return cand[shapely.contains_xy(self.polys[cand], lon, lat)]

    def many(self, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
        in_idx, tree_idx = self.tree.query(shapely.points(lons, lats))
        hit = shapely.contains_xy(self.polys[tree_idx], lons[in_idx], lats[in_idx])
        out = np.full(len(lons), -1, dtype=np.int64)
        out[in_idx[hit]] = tree_idx[hit]
        return out


def bench_in_process(sets: dict[str, tuple[list[Unit], JurisdictionIndex]], n_single: int, n_batch: int,
                     rng: np.random.Generator) -> dict[str, float]:
    """Single-point and batch figures for each set and for bare shapely on the national polygons."""
    out: dict[str, float] = {}
    nat_units, nat_idx = sets["national"]
    bare = BareShapely(nat_units)
    nx, ny = land_points(nat_idx, n_single, rng)
    bx, by = land_points(sets["bali"][1], n_single, rng)
    out["single_bali_us"] = median_us(sets["bali"][1].locate, bx, by)
    out["single_national_us"] = median_us(nat_idx.locate, nx, ny)
    out["single_national_bali_pts_us"] = median_us(nat_idx.locate, bx, by)
    out["single_bare_us"] = median_us(bare.one, nx, ny)
    print(f"single point, median of {n_single:,} land points (locate; no stations loaded in process):")
    print(f"  Bali set, Bali points            {out['single_bali_us']:7.1f} us")
    print(f"  national set, national points    {out['single_national_us']:7.1f} us   "
          f"ratio national/Bali {out['single_national_us'] / out['single_bali_us']:4.2f}x")
    print(f"  national set, Bali points        {out['single_national_bali_pts_us']:7.1f} us")
    print(f"  bare shapely, national polygons  {out['single_bare_us']:7.1f} us   "
          f"ratio locate/bare {out['single_national_us'] / out['single_bare_us']:4.2f}x")

    for name, (_units, idx) in sets.items():
        xmin, ymin, xmax, ymax = shapely.total_bounds(np.array([u.geometry for u in idx.leaves]))
        lons, lats = rng.uniform(xmin, xmax, n_batch), rng.uniform(ymin, ymax, n_batch)
        t, pos = best_of(lambda idx=idx, lons=lons, lats=lats: idx.locate_many(lons, lats), repeat=2)
        out[f"batch_{name}_s"] = t
        print(f"batch of {n_batch:,} points in the {name} bounding box ({(pos >= 0).mean():.0%} covered): "
              f"locate_many {t:6.3f} s = {n_batch / t / 1e6:5.2f} M points/s")
        if name == "national":
            tb, base = best_of(lambda lons=lons, lats=lats: bare.many(lons, lats), repeat=2)
            out["batch_bare_s"] = tb
            agree = float(((pos >= 0) == (base >= 0)).mean())
            print(f"  bare shapely two-step on the national polygons {tb:6.3f} s; ratio locate_many/bare "
                  f"{t / tb:4.2f}x (covered/not covered agree on {agree:.4%})")
    print(f"  ratio national/Bali batch time {out['batch_national_s'] / out['batch_bali_s']:4.2f}x")
    return out


# ------------------------------------------------------------------ servers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare_db(kind: str, data_dir: Path, national_data: Path, database_url: str | None) -> str:
    """A database with the Bali (bundled) or national set published; returns a dispatcher token."""
    from geo_service.config import load_settings
    from geo_service.services.bootstrap import ensure_bundled, unit_areas_m2
    from geo_service.storage import db, repo
    from geo_service.storage.db import Storage

    overrides: dict[str, Any] = {"data_dir": str(data_dir), "secret_key": SECRET}
    if database_url:
        overrides["database_url"] = database_url
    settings = load_settings(overrides=overrides)
    storage = Storage(settings.database_url, settings.backend)
    db.upgrade(storage.engine)
    ensure_bundled(storage, settings)
    with storage.transaction() as session:
        if kind == "national":
            # The checks are skipped here only to save time: the figures are about serving.
            built = national.build_national_set(national_data, fine_units=load_bali_units(), run_checks=False)
            bset = repo.create_boundary_set(session, name="bench national", units=built.units, source="national",
                                            created_by="bench", area_m2=unit_areas_m2(built.units))
            repo.publish_boundary_set(session, bset.id, actor="bench")
        _row, token = repo.create_token(session, name="bench", role="dispatcher")
    storage.dispose()
    return token


def republish(data_dir: Path, database_url: str | None) -> None:
    """Publish the published set again (a new generation): what every worker sees after a publish."""
    from geo_service.config import load_settings
    from geo_service.storage import repo
    from geo_service.storage.db import Storage

    overrides: dict[str, Any] = {"data_dir": str(data_dir), "secret_key": SECRET}
    if database_url:
        overrides["database_url"] = database_url
    settings = load_settings(overrides=overrides)
    storage = Storage(settings.database_url, settings.backend)
    with storage.transaction() as session:
        set_id = repo.get_generation(session)[1]
        assert set_id is not None
        repo.publish_boundary_set(session, set_id, actor="bench")
    storage.dispose()


def smaps(pid: int) -> dict[str, int]:
    """kB figures of /proc/<pid>/smaps_rollup: rss, pss, uss (private clean + dirty), shared."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[-1] == "kB":
            fields[key] = int(parts[0])
    return {"rss": fields.get("Rss", 0), "pss": fields.get("Pss", 0),
            "uss": fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0),
            "shared": fields.get("Shared_Clean", 0) + fields.get("Shared_Dirty", 0)}


def children(pid: int) -> list[int]:
    """Child pids of ``pid`` (the gunicorn workers of the arbiter)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return sorted(out)


def memory_line(label: str, master: int) -> dict[str, Any]:
    """Print and return the memory of the arbiter and its workers (MB)."""
    m = smaps(master)
    workers = [smaps(w) for w in children(master)]
    def mb(key: str, fmt: str) -> str:
        return " ".join(format(w[key] / 1024, fmt) for w in workers)

    print(f"  memory {label}: arbiter RSS {m['rss'] / 1024:6.1f} MB (USS {m['uss'] / 1024:6.1f}); "
          f"{len(workers)} workers: RSS {mb('rss', '.0f')} MB, PSS {mb('pss', '.0f')} MB, "
          f"USS {mb('uss', '.1f')} MB; total PSS {(m['pss'] + sum(w['pss'] for w in workers)) / 1024:.0f} MB")
    return {"arbiter": m, "workers": workers}


def start_server(data_dir: Path, workers: int, token: str, probe: dict[str, float],
                 database_url: str | None) -> tuple[subprocess.Popen[bytes], str, float]:
    """Start ``geo-service serve``; return (process, base URL, seconds to the first answered locate)."""
    import requests

    port = _free_port()
    env = {**os.environ, "GEO_SERVICE_DATA_DIR": str(data_dir), "GEO_SERVICE_SECRET_KEY": SECRET,
           "GEO_SERVICE_LOG_LEVEL": "WARNING"}
    env.pop("GEO_SERVICE_DATABASE_URL", None)
    if database_url:
        env["GEO_SERVICE_DATABASE_URL"] = database_url
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "geo_service.cli", "serve", "--port", str(port),
                             "--workers", str(workers)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"geo-service serve exited with {proc.returncode}")
        try:
            r = requests.post(f"{base}/api/v1/locate", json=probe, timeout=5,
                              headers={"Authorization": f"Bearer {token}"})
            if r.status_code == 200:
                return proc, base, time.perf_counter() - started
        except requests.RequestException:
            pass
        time.sleep(0.05)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Stop the process group this script started."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _py_client(args: tuple[str, str, list[str], float]) -> tuple[int, float]:
    import requests

    base, token, bodies, seconds = args
    s = requests.Session()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    n, end, i = 0, time.perf_counter() + seconds, 0
    lat_sum = 0.0
    while time.perf_counter() < end:
        t = time.perf_counter()
        s.post(f"{base}/api/v1/locate", data=bodies[i % len(bodies)], headers=headers, timeout=10)
        lat_sum += time.perf_counter() - t
        n += 1
        i += 1
    return n, lat_sum


def load_test(base: str, token: str, lons: np.ndarray, lats: np.ndarray, seconds: float,
              connections: int) -> tuple[float, str]:
    """Requests/s of POST /api/v1/locate over the given points; wrk when installed."""
    bodies = [json.dumps({"lat": round(float(y), 6), "lon": round(float(x), 6)}) for x, y in zip(lons, lats,
                                                                                                  strict=True)]
    wrk = shutil.which("wrk")
    if wrk:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
            fh.write(LUA % (", ".join(json.dumps(b) for b in bodies), token))
            script = fh.name
        try:
            done = subprocess.run([wrk, "-t2", f"-c{connections}", f"-d{seconds:.0f}s", "--latency", "-s", script,
                                   base], capture_output=True, text=True, check=True)
        finally:
            os.unlink(script)
        rps = float(next(ln for ln in done.stdout.splitlines() if ln.startswith("Requests/sec")).split()[-1])
        errors = [ln.strip() for ln in done.stdout.splitlines() if "Non-2xx" in ln or "Socket errors" in ln]
        p50 = next((ln.split()[-1] for ln in done.stdout.splitlines() if ln.strip().startswith("50%")), "?")
        p99 = next((ln.split()[-1] for ln in done.stdout.splitlines() if ln.strip().startswith("99%")), "?")
        return rps, f"wrk -t2 -c{connections}: p50 {p50}, p99 {p99}" + (f"; {'; '.join(errors)}" if errors else "")
    with multiprocessing.Pool(connections) as pool:
        res = pool.map(_py_client, [(base, token, bodies, seconds)] * connections)
    n = sum(r[0] for r in res)
    return n / seconds, f"python client x{connections}: mean latency {sum(r[1] for r in res) / max(n, 1) * 1000:.1f} ms"


class Server:
    """One ``geo-service serve`` on a scratch database with the ``kind`` set published."""

    def __init__(self, kind: str, national_data: Path, workers: int, probe: tuple[float, float],
                 database_url: str | None = None) -> None:
        self.kind = kind
        self.label = kind + (" on PostGIS" if database_url else "")
        self.database_url = database_url
        self.workers = workers
        self.tmp = tempfile.TemporaryDirectory(prefix=f"bench-{kind}-")
        self.data_dir = Path(self.tmp.name)
        t = time.perf_counter()
        self.token = prepare_db(kind, self.data_dir, national_data, database_url)
        print(f"{self.label} set: database prepared in {time.perf_counter() - t:.1f} s")
        self.proc, self.base, self.startup_s = start_server(self.data_dir, workers, self.token,
                                                            {"lon": probe[0], "lat": probe[1]}, database_url)
        print(f"  start-up to first answer: {self.startup_s:.2f} s ({workers} workers)")
        end = time.monotonic() + 30
        while len(children(self.proc.pid)) < workers and time.monotonic() < end:
            time.sleep(0.1)  # gunicorn forks the workers one after the other
        time.sleep(1.0)
        self.mem: dict[str, Any] = {"start": memory_line(f"{self.label} after start-up", self.proc.pid)}
        self.rps: dict[str, float] = {}

    def run(self, label: str, pts: tuple[np.ndarray, np.ndarray], seconds: float, connections: int) -> None:
        """One load run; keeps the best requests/s per point set."""
        rps, info = load_test(self.base, self.token, pts[0], pts[1], seconds, connections)
        self.rps[label] = max(self.rps.get(label, 0.0), rps)
        print(f"  {self.label:20s} {label:9s} points: {rps:7.0f} req/s ({info})")

    def stop(self) -> None:
        """Stop the server and remove its scratch directory."""
        stop_server(self.proc)
        self.tmp.cleanup()


def bench_http(national_data: Path, workers: int, seconds: float, connections: int, rounds: int,
               points: dict[str, tuple[np.ndarray, np.ndarray]], postgis: bool) -> dict[str, Any]:
    """Both servers up at once, load runs interleaved (best of ``rounds``), so machine noise hits both."""
    probe = (float(points["Bali"][0][0]), float(points["Bali"][1][0]))
    servers = [Server("bali", national_data, workers, probe), Server("national", national_data, workers, probe)]
    drop = None
    if postgis:
        url, drop = scratch_pg()
        if url:
            servers.append(Server("national", national_data, workers, probe, database_url=url))
    try:
        for srv in servers:  # warm every worker
            for pts in points.values():
                load_test(srv.base, srv.token, pts[0][:200], pts[1][:200], 2, connections)
        for r in range(rounds):
            print(f"round {r + 1} of {rounds}")
            for srv in servers[r % len(servers):] + servers[:r % len(servers)]:  # rotate the order
                for label, pts in points.items():
                    if srv.kind == "bali" and label != "Bali":
                        continue
                    srv.run(label, pts, seconds, connections)
        for srv in servers:
            srv.mem["load"] = memory_line(f"{srv.label} after the load", srv.proc.pid)
        nat = servers[1]
        republish(nat.data_dir, None)
        time.sleep(2.5)  # > reload_interval_s: the next request of every worker rebuilds its index
        load_test(nat.base, nat.token, points["national"][0][:200], points["national"][1][:200], 3, connections)
        nat.mem["republish"] = memory_line("national after a re-publish (each worker built its own index)",
                                           nat.proc.pid)
        return {srv.label: {"startup_s": srv.startup_s, "rps": srv.rps, "mem": srv.mem} for srv in servers}
    finally:
        for srv in servers:
            srv.stop()
        if drop is not None:
            drop()


# ------------------------------------------------------------------ main


def scratch_pg() -> tuple[str | None, Any]:
    """A scratch PostGIS database URL and its dropper (None when PostgreSQL does not answer)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = os.environ.get("GEO_SERVICE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    name = f"geo_service_bench_{os.getpid()}"
    try:
        eng = create_engine(admin, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with eng.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - the PostGIS part is optional
        print(f"PostGIS not available ({str(exc).splitlines()[0]}): skipped")
        return None, lambda: None

    def drop() -> None:
        with eng.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                         {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        eng.dispose()

    return make_url(admin).set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=str(ROOT / "boundaries"))
    ap.add_argument("--n-batch", type=int, default=1_000_000)
    ap.add_argument("--n-single", type=int, default=5_000)
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each HTTP load run")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--workers", type=int, default=max(2, 2 * (os.cpu_count() or 1)))
    ap.add_argument("--postgis", action="store_true", help="also measure the national start-up on PostGIS")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved HTTP rounds (best of)")
    ap.add_argument("--skip-http", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(110)
    data_dir = Path(args.data_dir)

    t = time.perf_counter()
    built = national.build_national_set(data_dir, fine_units=load_bali_units(), run_checks=False)
    t_read = time.perf_counter() - t
    t, nat_idx = best_of(lambda: JurisdictionIndex.build(built.units, set_id=2), repeat=1)
    bali_units = load_bali_units()
    t_bali, bali_idx = best_of(lambda: JurisdictionIndex.build(bali_units, set_id=1), repeat=1)
    print(f"national set: {len(built.units):,} units ({len(nat_idx.leaves):,} leaves), read+merge {t_read:.1f} s, "
          f"index build {t:.2f} s; Bali: {len(bali_idx.leaves)} leaves, build {t_bali * 1000:.0f} ms")
    sets = {"bali": (bali_units, bali_idx), "national": (built.units, nat_idx)}
    figures = bench_in_process(sets, args.n_single, args.n_batch, rng)
    if args.skip_http:
        return

    pts = {"national": land_points(nat_idx, 5_000, rng), "Bali": land_points(bali_idx, 5_000, rng)}
    print(f"\nHTTP ({'wrk' if shutil.which('wrk') else 'python client'}, {args.seconds:.0f} s per run, "
          f"{args.connections} connections, {args.workers} workers, {os.cpu_count()} cores shared with the client)")
    res = bench_http(data_dir, args.workers, args.seconds, args.connections, args.rounds, pts, args.postgis)
    bali, nat = res["bali"], res["national"]
    pg = res.get("national on PostGIS")

    print("\nratios (national / Bali; goal <= 1.5x per HTTP request)")
    print(f"  single locate in process     {figures['single_national_us'] / figures['single_bali_us']:5.2f}x")
    print(f"  1M batch locate_many         {figures['batch_national_s'] / figures['batch_bali_s']:5.2f}x")
    print(f"  locate vs bare shapely       {figures['single_national_us'] / figures['single_bare_us']:5.2f}x "
          f"(single), {figures['batch_national_s'] / figures['batch_bare_s']:5.2f}x (batch)")
    same = bali["rps"]["Bali"] / nat["rps"]["Bali"]
    own = bali["rps"]["Bali"] / nat["rps"]["national"]
    print(f"  HTTP time per request        {same:5.2f}x (Bali points on both), {own:5.2f}x (each set's own points) "
          f"{'OK' if max(same, own) <= 1.5 else 'OVER GOAL'}; best req/s: Bali {bali['rps']['Bali']:.0f}, "
          f"national {nat['rps']['national']:.0f} / {nat['rps']['Bali']:.0f} (national / Bali points)"
          + (f", PostGIS national {pg['rps']['national']:.0f}" if pg else ""))
    print(f"  start-up to first answer     {nat['startup_s'] / bali['startup_s']:5.2f}x "
          f"({nat['startup_s']:.2f} s vs {bali['startup_s']:.2f} s)"
          + (f"; national on PostGIS {pg['startup_s']:.2f} s" if pg else ""))

    def avg(r: dict[str, Any], when: str, key: str) -> float:
        return float(np.mean([w[key] for w in r["mem"][when]["workers"]])) / 1024

    print(f"  worker after load            RSS {avg(nat, 'load', 'rss'):.0f} vs {avg(bali, 'load', 'rss'):.0f} MB, "
          f"PSS {avg(nat, 'load', 'pss'):.0f} vs {avg(bali, 'load', 'pss'):.0f} MB, "
          f"USS (not shared) {avg(nat, 'load', 'uss'):.1f} vs {avg(bali, 'load', 'uss'):.1f} MB")
    print(f"  arbiter RSS (index built)    {nat['mem']['start']['arbiter']['rss'] / 1024:.0f} vs "
          f"{bali['mem']['start']['arbiter']['rss'] / 1024:.0f} MB")
    print(f"  after a re-publish           worker USS {avg(nat, 'republish', 'uss'):.0f} MB "
          "(each worker holds its own rebuilt index until the servers restart)")


if __name__ == "__main__":
    main()
