"""Where a served request's CPU goes: py-spy samples of the gunicorn workers while wrk loads an endpoint.

Run: ``python bench/profile_http.py [--path /api/v1/locate] [--duration 10] [--workers 4]``

Starts ``geo-service serve`` on a temporary SQLite data dir (bundled Bali set), loads it with the
mix of ``bench_http.py`` and records the workers with ``py-spy record --format raw`` (idle threads
left out, and only the thread holding the GIL). Each sample is put in one bucket by the innermost frame that names it:

* ``answer``: the view's answer function (``api.locate_answer`` / ``validate_answer``: validation,
  the index, stations, building the typed answer), i.e. the geometry and services;
* ``lane``: the fast lane around it (token, revocations, decoding, headers, the app context);
* ``flask``: Flask/Werkzeug outside the lane (requests the lane hands over, or the whole path with
  ``GEO_SERVICE_FAST_LANE=false``);
* ``gunicorn``: the server (parsing the request, socket reads and writes, the worker loop);
* ``other``: anything else (the interpreter's own frames, the collector).

Needs py-spy (``pip install py-spy``) and a kernel that lets it attach to the workers. Only threads holding
the GIL are sampled (``--gil``): Python CPU time; socket waits, and GEOS calls that release the
GIL, are not in the figures.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_http import PY, ROOT, free_port, lua, start, stop, wait_http  # noqa: E402

SPY = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
ANSWER = re.compile(r"^(locate_answer|validate_answer) \(geo_service/web/api\.py")
BUCKETS = [  # checked from the leaf frame outwards: the innermost frame that names a bucket decides
    ("lane", re.compile(r"\(geo_service/web/fast_lane\.py")),
    ("gunicorn", re.compile(r"\((gunicorn/|geo_service/web/server\.py)")),
    ("flask", re.compile(r"\((flask|werkzeug|flask_login|flask_wtf|flask_babel|geo_service/web)/")),
]
FLASK_APP = re.compile(r"^Flask\.wsgi_app \(flask/app\.py")
#: A thread of the gthread pool waiting for work (py-spy may count it as busy).
IDLE = re.compile(r"^_worker \(concurrent/futures/thread\.py")


def bucket_of(frames: list[str]) -> str:
    """The bucket of one sampled stack (root first); "idle" for a pool thread waiting for work."""
    if any(ANSWER.search(frame) for frame in frames):
        return "answer"  # all below the view's answer function
    if frames and IDLE.search(frames[-1]):
        return "idle"
    in_lane = any(BUCKETS[0][1].search(frame) for frame in frames) \
        and not any(FLASK_APP.search(frame) for frame in frames)
    for frame in reversed(frames):
        for name, pattern in BUCKETS:
            if pattern.search(frame):
                # Flask's app context pushed and popped by the lane is the lane's cost.
                return "lane" if name == "flask" and in_lane else name
    return "other"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--path", default="/api/v1/locate")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--lane-off", action="store_true", help="GEO_SERVICE_FAST_LANE=false (the Flask path)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="profile_http_"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEO_SERVICE_")}
    env.update(GEO_SERVICE_DATA_DIR=str(tmp / "instance"), GEO_SERVICE_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT))
    if args.lane_off:
        env["GEO_SERVICE_FAST_LANE"] = "false"
    token = subprocess.run([PY, "-m", "geo_service.cli", "token", "create", "--role", "dispatcher", "--name", "spy"],
                           env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    mode = "mix" if args.path == "/api/v1/locate" else "text"
    script = lua(tmp, "load", token, args.path, mode)
    port = free_port()
    svc = start([PY, "-m", "geo_service.cli", "serve", "--port", str(port), "--workers", str(args.workers)], env, ROOT)
    raw = tmp / "spy.txt"
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/health")
        subprocess.run(["wrk", "-t2", f"-c{args.connections}", "-d2s", "-s", str(script), base + "/"],
                       capture_output=True, check=True)  # warm-up
        spy = subprocess.Popen([SPY, "record", "--pid", str(svc.pid), "--subprocesses", "--format", "raw",
                                "--duration", str(args.duration + 1), "--rate", "200", "--nonblocking", "--gil",
                                "--output", str(raw)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        out = subprocess.run(["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "-s", str(script),
                              base + "/"], capture_output=True, text=True, check=True).stdout
        spy.wait(60)
        if not raw.exists():
            print("py-spy could not record:", spy.stderr.read().decode()[-500:] if spy.stderr else "")
            return 1
        rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
        counts: collections.Counter[str] = collections.Counter()
        for line in raw.read_text().splitlines():
            stack, _, n = line.rpartition(" ")
            if not stack or not n.isdigit():
                continue
            frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
            counts[bucket_of(frames)] += int(n)
        counts.pop("idle", None)
        total = sum(counts.values()) or 1
        print(f"{args.path} {'(fast lane off) ' if args.lane_off else ''}under wrk: "
              f"{float(rps.group(1)) if rps else float('nan'):,.0f} req/s, {args.workers} workers, "
              f"load average {os.getloadavg()[0]:.2f}; {total:,} py-spy samples of the threads holding the GIL")
        for name in ("answer", "lane", "flask", "gunicorn", "other"):
            print(f"  {name:<9} {100 * counts[name] / total:5.1f} %")
    finally:
        stop(svc)
        if os.environ.get("KEEP_SPY"):
            print("raw samples kept in", raw)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
