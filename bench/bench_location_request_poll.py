"""What consoles waiting for a caller's location cost a `geo-service serve` (gthread workers).

Starts `geo-service serve` (gunicorn, W gthread workers x T threads, temp SQLite data dir), then
measures `POST /api/v1/locate` latency from 4 client threads: alone (baseline), while K consoles hold a
long poll (`GET /api/v1/location-requests/<id>?wait=S`; at most W*T/2 are let wait, the rest are
answered at once), and the cost of one short poll (`wait=0`, what the console sends every 3 s
before the caller opens the link). K runs over 1, W, the cap W*T/2 and W*T (more than the cap).
Only 127.0.0.1.

    python bench/bench_location_request_poll.py [--workers 4] [--threads 16] [--seconds 4] [--wait 8]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from typing import Any


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(url: str, token: str, body: Any = None, timeout: float = 60) -> tuple[float, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Authorization": f"Bearer {token}",
                                                          "Content-Type": "application/json"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=timeout) as r:
        out = json.loads(r.read())
    return time.perf_counter() - t0, out


def _locate_load(base: str, token: str, seconds: float, threads: int = 4) -> list[float]:
    lat: list[float] = []
    stop = time.monotonic() + seconds

    def run() -> None:
        while time.monotonic() < stop:
            dt, _ = _call(base + "/api/v1/locate", token, {"lat": -8.65, "lon": 115.21})
            lat.append(dt)

    ts = [threading.Thread(target=run) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return lat


def _report(label: str, lat: list[float], seconds: float) -> None:
    lat = sorted(lat)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print(f"  {label:<42} {len(lat) / seconds:8.0f} req/s  p50 {statistics.median(lat) * 1000:8.1f} ms  "
          f"max {lat[-1] * 1000:8.1f} ms  p99 {p99 * 1000:8.1f} ms")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--wait", type=float, default=8.0)
    args = ap.parse_args()
    data = tempfile.mkdtemp(prefix="bench_locreq_")
    env = {**os.environ, "GEO_SERVICE_DATA_DIR": data, "GEO_SERVICE_LOG_LEVEL": "WARNING",
           "GEO_SERVICE_LOCATION_REQUEST_WAIT_S": str(args.wait), "GEO_SERVICE_WORKERS": str(args.workers),
           "GEO_SERVICE_THREADS": str(args.threads)}
    cli = [sys.executable, "-m", "geo_service.cli"]
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
    cap = max(1, args.workers * args.threads // 2)
    most = args.workers * args.threads
    # a user may make 12 location requests per 10 minutes: one token per 10 requests
    tokens = [subprocess.run([*cli, "token", "create", "--role", "admin", "--name", f"bench-{i}"], env=env,
                             check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
              for i in range(most // 10 + 1)]
    token = tokens[0]
    port = _port()
    proc = subprocess.Popen([*cli, "serve", "--port", str(port), "--workers", str(args.workers)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        print(f"cores: {os.cpu_count()}, {args.workers} gthread workers x {args.threads} threads (long-poll cap "
              f"{cap}), long poll bound {args.wait:g} s, 4 client threads posting /api/v1/locate")
        _report("no console waiting (baseline)", _locate_load(base, token, args.seconds), args.seconds)
        ids = [_call(base + "/api/v1/location-requests", tokens[i // 10], {})[1]["id"] for i in range(most)]
        short = [_call(f"{base}/api/v1/location-requests/{ids[0]}?wait=0", token)[0] for _ in range(200)]
        print(f"  one short poll (wait=0): median {statistics.median(short) * 1000:.1f} ms -> a console polling "
              f"every 3 s uses {statistics.median(short) / 3 * 100:.2f} % of one worker")
        for k in sorted({1, args.workers, cap, most}):
            holders = [threading.Thread(target=_call, args=(f"{base}/api/v1/location-requests/{rid}?wait={args.wait}",
                                                             token)) for rid in ids[:k]]
            for h in holders:
                h.start()
            time.sleep(0.3)
            seconds = min(args.seconds, args.wait - 1)
            label = f"{k} console(s) holding a long poll" + (" (over the cap)" if k > cap else "")
            _report(label, _locate_load(base, token, seconds), seconds)
            for h in holders:
                h.join()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
