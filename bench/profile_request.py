"""Where the time of one API request goes: cProfile of the WSGI app called in process.

Builds the app on a temporary SQLite data dir (bundled Bali set), creates a dispatcher token,
and calls ``app.wsgi_app`` directly (no test client, no socket) with the locate mix of
``bench_http.py`` (plain decimals, DMS text, a dropped minus, a swapped pair, a rounded value, a
point at sea), or with validate bodies. Prints the wall time per request next to a trivial Flask
JSON app called the same way (the baseline, measured in the same run), and the top functions by
cumulative and by own time.

Run: ``python bench/profile_request.py [--path /api/v1/locate] [--n 3000] [--top 30]``
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: The locate mix of the HTTP bench: plain decimals, DMS text, a dropped minus, a swapped pair, a
#: rounded value and a point at sea (Bali).
MIX: list[dict[str, Any]] = [
    {"lat": -8.650123, "lon": 115.216789},
    {"text": "8°21'29.5\" LS 114°37'11.3\" BT"},
    {"lat": 8.409518, "lon": 115.188919},
    {"lat": 115.262, "lon": -8.5069},
    {"lat": -8.65, "lon": 115.22},
    {"lat": -8.80, "lon": 115.40},
]


def trivial_app() -> Any:
    from flask import Flask, jsonify, request

    app = Flask("trivial")

    @app.post("/echo")
    def echo() -> Any:
        body = request.get_json()
        return jsonify({"ok": True, "lat": body.get("lat"), "lon": body.get("lon")})

    return app


def environ(path: str, body: bytes, token: str) -> dict[str, Any]:
    from werkzeug.test import EnvironBuilder

    return EnvironBuilder(path=path, method="POST", data=body, content_type="application/json",
                          headers={"Authorization": f"Bearer {token}"}).get_environ()


def call(wsgi: Any, env: dict[str, Any]) -> bytes:
    env = dict(env)
    env["wsgi.input"] = io.BytesIO(env["_body"])
    status: list[str] = []
    out = b"".join(wsgi(env, lambda s, h, exc_info=None: status.append(s)))
    if not status[0].startswith("200"):
        raise RuntimeError(f"{status[0]}: {out[:300]!r}")
    return out


def prepared(path: str, bodies: list[dict[str, Any]], token: str) -> list[dict[str, Any]]:
    envs = []
    for b in bodies:
        raw = json.dumps(b).encode()
        env = environ(path, raw, token)
        env["_body"] = raw
        envs.append(env)
    return envs


def per_request_us(wsgi: Any, envs: list[dict[str, Any]], n: int) -> float:
    t = time.perf_counter()
    for i in range(n):
        call(wsgi, envs[i % len(envs)])
    return (time.perf_counter() - t) / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--path", default="/api/v1/locate")
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--per-kind", action="store_true", help="also time each body of the mix on its own")
    ap.add_argument("--stub-answer", action="store_true",
                    help="the fast lane answers a constant: its own cost against the trivial app (plain bodies)")
    args = ap.parse_args()

    from geo_service.storage import repo
    from geo_service.web.app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="profile_request_"))
    app = create_app({"data_dir": str(tmp), "secret_key": "profile-secret-key-0123456789",
                      "log_level": "WARNING"})
    with app.extensions["geo_service"].storage.transaction() as session:
        _row, token = repo.create_token(session, name="profile", role="dispatcher")
    envs = prepared(args.path, MIX, token)
    if args.stub_answer:
        # The lane's own cost: its route answers a constant (decoding, token, headers still run).
        from geo_service.web.fast_lane import FastRoute

        lane = app.wsgi_app
        route = lane.routes[args.path]
        lane.routes = {**lane.routes, args.path: FastRoute(route.endpoint, route.query_type,
                                                           lambda q, lang: {"ok": True, "lat": q.lat, "lon": q.lon})}
    trivial = trivial_app()
    tenvs = prepared("/echo", MIX[:1], token)
    for _ in range(200):  # warm-up: token cache, prepared polygons, catalogs
        call(app.wsgi_app, envs[_ % len(envs)])
        call(trivial.wsgi_app, tenvs[0])
    flask_path = None if args.stub_answer else getattr(app.wsgi_app, "inner", None)  # behind the fast lane
    if flask_path is not None:
        for _ in range(200):
            call(flask_path, envs[_ % len(envs)])
    # Best of 3 rounds, the contenders interleaved (a shared machine's load moves between rounds).
    best: dict[str, float] = {}
    contenders = [("trivial", trivial.wsgi_app, tenvs), ("ours", app.wsgi_app, envs)]
    if flask_path is not None:
        contenders.append(("flask", flask_path, envs))
    for _round in range(3):
        for name, wsgi, cases in contenders:
            best[name] = min(best.get(name, float("inf")), per_request_us(wsgi, cases, args.n))
    base, ours = best["trivial"], best["ours"]
    print(f"trivial Flask JSON POST  {base:7.1f} us/request  (best of 3 rounds of {args.n})")
    print(f"{args.path:<24} {ours:7.1f} us/request  ratio {ours / base:4.2f}x (mix of {len(MIX)} bodies)")
    if "flask" in best:
        slow = best["flask"]
        print(f"{'  the same, Flask path':<24} {slow:7.1f} us/request  ratio {slow / base:4.2f}x (fast lane off)")
    if args.per_kind:
        # The same request path per kind of body: what each kind of the mix costs end to end.
        for body, env in zip(MIX, envs, strict=True):
            us = min(per_request_us(app.wsgi_app, [env], max(args.n // 10, 50)) for _ in range(3))
            print(f"  {json.dumps(body, ensure_ascii=False):<48} {us:7.1f} us/request  {us / base:5.2f}x trivial")
    prof = cProfile.Profile()
    prof.enable()
    for i in range(args.n):
        call(app.wsgi_app, envs[i % len(envs)])
    prof.disable()
    for key in ("cumulative", "tottime"):
        s = io.StringIO()
        pstats.Stats(prof, stream=s).strip_dirs().sort_stats(key).print_stats(args.top)
        print("\n".join(line for line in s.getvalue().splitlines() if line.strip())[:12000])


if __name__ == "__main__":
    main()
