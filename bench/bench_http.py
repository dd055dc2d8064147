"""HTTP benchmark: ``geo-service serve`` under wrk against a trivial Flask app served the same way.

Run: ``cd /work/main && /work/venv/bin/python bench/bench_http.py [--duration 10] [--workers 2 4]``

For each worker count it starts, on a temporary SQLite data dir (bundled Bali set):

* ``python -m geo_service.cli serve --workers W`` (gunicorn gthread workers with 16 threads, app preloaded), and
* a tiny standalone Flask app with one JSON POST route (parse the body, answer a small JSON
  object) under gunicorn with the same settings (worker count, gthread workers, threads,
  keep-alive): the baseline of "Flask + gunicorn + JSON" without any geo work (``GET /health``
  is not trivial: it reads the index state).

and loads them with ``/usr/bin/wrk`` (a Lua script sends JSON POSTs with the bearer token; the
locate mix has plain decimals, DMS text, a dropped minus, a swapped pair, a rounded value and a
point at sea; ``--latency`` percentiles). Printed per run: requests/s, p50, p99 and the ratio to
the baseline (``--base DIR`` serves another tree too, e.g. the code before a change, in the same
rounds) and the servers' CPU time per request (user + system of the process group, from /proc:
less moved by other programs on a shared machine than requests/s); plus
``POST /api/v1/coordinates/validate`` (text input,
mixed formats) and a 1,000,000-point CSV through ``POST /api/v1/locate/batch`` (``--batch``).
Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
try:
    from geo_service.cli.serve import DEFAULT_THREADS, SERVER_SETTINGS
except ImportError:  # before the cli package (an older checkout as the baseline)
    from geo_service.cli import DEFAULT_THREADS, SERVER_SETTINGS  # type: ignore[attr-defined,no-redef]

ROOT = Path(__file__).resolve().parents[1]
WRK = shutil.which("wrk") or "/usr/bin/wrk"
PY = sys.executable

TRIVIAL_APP = '''
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/echo")
def echo():
    body = request.get_json()
    return jsonify({"ok": True, "lat": body.get("lat"), "lon": body.get("lon")})
'''

LUA = '''
math.randomseed(%(seed)d)
local token = "%(token)s"
local path = "%(path)s"
local mode = "%(mode)s"
local texts = {
  "-8.%%04d, 115.%%04d", "8°%%02d'%%02d\\" LS 115°%%02d'%%02d\\" BT", "geo:-8.%%04d,115.%%04d;u=20",
  "https://www.google.com/maps/@-8.%%04d,115.%%04d,17z"}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
request = function()
  local body
  if mode == "text" then
    local k = math.random(1, #texts)
    local t
    if k == 2 then
      t = string.format(texts[k], math.random(10, 50), math.random(0, 59), math.random(5, 30), math.random(0, 59))
    else
      t = string.format(texts[k], math.random(1000, 8500), math.random(1000, 5500))
    end
    body = '{"text": "' .. t:gsub('"', '\\\\"') .. '"}'
  elseif mode == "mix" then
    -- plain decimals, DMS text, a dropped minus, a swapped pair, a rounded value, a point at sea
    local k = math.random(1, 6)
    local lat = -8.30 - math.random() * 0.25
    local lon = 115.05 + math.random() * 0.30
    if k == 1 then
      body = string.format('{"lat": %%.6f, "lon": %%.6f}', lat, lon)
    elseif k == 2 then
      body = string.format([[{"text": "8°%%02d'%%02d.%%d\\" LS 115°%%02d'%%02d.%%d\\" BT"}]], math.random(18, 32),
                           math.random(0, 59), math.random(0, 9), math.random(3, 20), math.random(0, 59), math.random(0, 9))
    elseif k == 3 then
      body = string.format('{"lat": %%.6f, "lon": %%.6f}', -lat, lon)
    elseif k == 4 then
      body = string.format('{"lat": %%.6f, "lon": %%.6f}', lon, lat)
    elseif k == 5 then
      body = string.format('{"lat": %%.2f, "lon": %%.2f}', lat, lon)
    else
      body = string.format('{"lat": %%.6f, "lon": %%.6f}', -8.86 - math.random() * 0.08, 115.30 + math.random() * 0.25)
    end
  else
    local lat = -8.06 - math.random() * 0.79
    local lon = 114.43 + math.random() * 1.29
    body = string.format('{"lat": %%.6f, "lon": %%.6f}', lat, lon)
  end
  return wrk.format(nil, path, nil, body)
end
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout_s: float = 60.0) -> None:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - 127.0.0.1 only
                if r.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
            time.sleep(0.2)
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def start(cmd: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url: str, script: Path, duration_s: int, connections: int, threads: int = 2) -> dict[str, float]:
    """Run wrk; return req/s, p50 and p99 in ms, and the non-2xx count."""
    out = subprocess.run([WRK, f"-t{threads}", f"-c{connections}", f"-d{duration_s}s", "--latency", "-s", str(script),
                          url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    pct = {p: _ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    done = re.search(r"(\d+) requests in", out)
    return {"rps": rps, "p50": pct.get("50", float("nan")), "p99": pct.get("99", float("nan")),
            "non2xx": float(bad.group(1)) if bad else 0.0, "requests": float(done.group(1)) if done else float("nan")}


def cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) of the live processes of a process group (a server: master and
    workers), from /proc; nan where there is no /proc."""
    if not Path("/proc").is_dir():
        return float("nan")
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(fields[2]) == pgid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def run_measured(url: str, script: Path, duration_s: int, connections: int, pgid: int) -> dict[str, float]:
    """:func:`run_wrk`, plus the server's CPU time per answered request in microseconds (``cpu_us``):
    unlike requests/s it does not move when other programs take the cores (only when they slow
    this one's instructions down)."""
    before = cpu_seconds(pgid)
    res = run_wrk(url, script, duration_s, connections)
    res["cpu_us"] = (cpu_seconds(pgid) - before) / res["requests"] * 1e6 if res["requests"] else float("nan")
    return res


def lua(tmp: Path, name: str, token: str, path: str, mode: str) -> Path:
    script = tmp / f"{name}.lua"
    script.write_text(LUA % {"seed": 110, "token": token, "path": path, "mode": mode})
    return script


def bench_batch(base: str, token: str, n: int) -> None:
    rng = np.random.default_rng(3)
    from geo_service.geo.bundled import load_bali_units
    from geo_service.geo.index import JurisdictionIndex

    idx = JurisdictionIndex.build(load_bali_units())
    lon = rng.uniform(114.43, 115.72, 3 * n)
    lat = rng.uniform(-8.85, -8.06, 3 * n)
    land = np.flatnonzero(idx.locate_many(lon, lat) >= 0)[:n]
    body = ("lat,lon\n" + "\n".join(f"{a:.6f},{b:.6f}" for a, b in zip(lat[land], lon[land], strict=True))
            + "\n").encode()
    req = urllib.request.Request(base + "/api/v1/locate/batch", data=body, method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"})
    t0 = time.perf_counter()
    first = None
    size = 0
    with urllib.request.urlopen(req, timeout=600) as r:  # noqa: S310 - 127.0.0.1 only
        while chunk := r.read(1 << 20):
            first = first or time.perf_counter() - t0
            size += len(chunk)
    total = time.perf_counter() - t0
    print(f"  batch CSV {n:,} land points ({len(body) / 1e6:.1f} MB in, {size / 1e6:.1f} MB out): "
          f"first bytes {first:.2f} s, total {total:.1f} s, {n / total:,.0f} points/s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--workers", type=int, nargs="+", default=[2, 4])
    ap.add_argument("--batch", type=int, default=1_000_000, help="points in the streamed CSV batch (0: skip)")
    ap.add_argument("--rounds", type=int, default=1, help="repeat the wrk runs; ratios per round and their median")
    ap.add_argument("--lane-off", action="store_true",
                    help="also run locate and validate on a second service with GEO_SERVICE_FAST_LANE=false "
                         "(the Flask path, in the same run)")
    ap.add_argument("--base", type=Path, default=None,
                    help="also serve this tree (e.g. a `git archive` of main: before/after in the same rounds) "
                         "with the same interpreter, data dir and settings")
    args = ap.parse_args()
    if not Path(WRK).exists():
        print("wrk not found (apt-get install wrk)")
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="bench_http_"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEO_SERVICE_")}
    env.update(GEO_SERVICE_DATA_DIR=str(tmp / "instance"), GEO_SERVICE_LOG_LEVEL="WARNING",
               PYTHONPATH=str(ROOT))
    token = subprocess.run([PY, "-m", "geo_service.cli", "token", "create", "--role", "dispatcher", "--name", "bench"],
                           env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    (tmp / "trivial.py").write_text(textwrap.dedent(TRIVIAL_APP))
    scripts = {"locate": lua(tmp, "locate", token, "/api/v1/locate", "mix"),
               "validate": lua(tmp, "validate", token, "/api/v1/coordinates/validate", "text"),
               "trivial": lua(tmp, "trivial", token, "/echo", "point")}
    print(f"cores: {os.cpu_count()}, wrk {args.duration} s, {args.connections} connections, 2 threads; "
          f"SQLite data dir {tmp}")
    try:
        for workers in args.workers:
            port, tport = free_port(), free_port()
            svc = start([PY, "-m", "geo_service.cli", "serve", "--port", str(port), "--workers", str(workers)],
                        env, ROOT)
            oport = free_port()
            off = start([PY, "-m", "geo_service.cli", "serve", "--port", str(oport), "--workers", str(workers)],
                        {**env, "GEO_SERVICE_FAST_LANE": "false"}, ROOT) if args.lane_off else None
            bport = free_port()
            before = start([PY, "-m", "geo_service.cli", "serve", "--port", str(bport), "--workers", str(workers)],
                           {**env, "PYTHONPATH": str(args.base)}, args.base) if args.base else None
            # The same gunicorn settings as `geo-service serve`: gthread workers, threads, keep-alive.
            triv = start([PY, "-m", "gunicorn", "-w", str(workers), "-k", "gthread", "--threads", str(DEFAULT_THREADS),
                          "--keep-alive", str(SERVER_SETTINGS["keepalive"]), "-b", f"127.0.0.1:{tport}",
                          "--chdir", str(tmp), "--log-level", "warning", "trivial:app"],
                         {**env, "PYTHONPATH": str(tmp)}, tmp)
            try:
                base, tbase = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{tport}"
                wait_http(base + "/health")
                wait_http(tbase + "/echo")
                obase = f"http://127.0.0.1:{oport}"
                run_wrk(base + "/api/v1/locate", scripts["locate"], 2, args.connections)  # warm-up
                urls = {"trivial": tbase, "locate": base, "validate": base}
                labels = [("trivial", "trivial Flask JSON POST (baseline)"),
                          ("locate", "POST /api/v1/locate (mix of 6 kinds)"),
                          ("validate", "POST /api/v1/coordinates/validate (text, 4 formats)")]
                if off is not None:
                    wait_http(obase + "/health")
                    run_wrk(obase + "/api/v1/locate", scripts["locate"], 2, args.connections)  # warm-up
                    urls.update({"locate_off": obase, "validate_off": obase})
                    labels += [("locate_off", "  locate, fast lane off (Flask path)"),
                               ("validate_off", "  validate, fast lane off (Flask path)")]
                if before is not None:
                    bbase = f"http://127.0.0.1:{bport}"
                    wait_http(bbase + "/health")
                    run_wrk(bbase + "/api/v1/locate", scripts["locate"], 2, args.connections)  # warm-up
                    urls.update({"locate_base": bbase, "validate_base": bbase})
                    labels += [("locate_base", f"  locate, {args.base.name} (before)"),
                               ("validate_base", f"  validate, {args.base.name} (before)")]
                procs = {"trivial": triv, "locate": svc, "validate": svc, "locate_off": off, "validate_off": off,
                         "locate_base": before, "validate_base": before}
                ratios: dict[str, list[tuple[float, float, float]]] = {name: [] for name, _label in labels}
                for round_no in range(1, args.rounds + 1):
                    load_before = os.getloadavg()[0]
                    # The order rotates from round to round: on a machine whose load grows during the run,
                    # no contender is always the one measured last.
                    turn = (round_no - 1) % len(labels)
                    res = {name: run_measured(urls[name] + "/", scripts[name.split("_")[0]], args.duration,
                                              args.connections, procs[name].pid)  # type: ignore[union-attr]
                           for name, _label in labels[turn:] + labels[:turn]}
                    print(f"\n{workers} workers, round {round_no}/{args.rounds} (load average {load_before:.2f} "
                          f"before, {os.getloadavg()[0]:.2f} after):")
                    base_rps = res["trivial"]["rps"]
                    base_p99 = res["trivial"]["p99"]
                    base_cpu = res["trivial"]["cpu_us"]
                    for name, label in labels:
                        r = res[name]
                        ratios[name].append((r["rps"] / base_rps, r["p99"] / base_p99, base_cpu / r["cpu_us"]))
                        bad = f", {int(r['non2xx'])} non-2xx" if r["non2xx"] else ""
                        print(f"  {label:<52} {r['rps']:8,.0f} req/s  p50 {r['p50']:6.2f} ms  p99 {r['p99']:6.2f} ms"
                              f"  ratio {r['rps'] / base_rps:5.2f}  p99 ratio {r['p99'] / base_p99:5.2f}"
                              f"  CPU {r['cpu_us']:5.0f} us/request (ratio {base_cpu / r['cpu_us']:4.2f}){bad}")
                if args.rounds > 1:
                    print(f"\n{workers} workers, median of {args.rounds} rounds (ratios to the same round's baseline; "
                          "CPU ratio: the trivial app's server CPU time per request over this one's):")
                    for name, label in labels[1:]:
                        rps_r, p99_r, cpu_r = (float(np.median([row[i] for row in ratios[name]])) for i in range(3))
                        print(f"  {label:<52} ratio {rps_r:5.2f}  p99 ratio {p99_r:5.2f}  CPU ratio {cpu_r:4.2f}")
                if args.batch and workers == args.workers[0]:
                    bench_batch(base, token, args.batch)
            finally:
                stop(svc)
                stop(triv)
                if off is not None:
                    stop(off)
                if before is not None:
                    stop(before)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
