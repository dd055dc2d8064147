"""Old and new code answer alike: the served answers of validate and locate, byte for byte, of two trees.

Each tree (this one, and ``--base DIR``: a ``git archive`` of the commit to compare with) builds its
app on a fresh SQLite data dir (bundled Bali set) in its own process and answers the same random
bodies through its WSGI entry (the fast lane, and the Flask path with ``--lane-off``), with one
fixed ``X-Request-ID``; status, headers and body bytes of every answer are compared. The bodies:
the texts of ``bench_http.py``'s validate mix (decimal pairs, DMS with LS/BT, ``geo:`` URIs, Google
Maps ``@lat,lon`` links) with wider values (other separators, signs, hemisphere words, minutes and
seconds past 59, values past 90/180), messages around them, and the locate mix (plain decimals, DMS
text, a dropped minus, a swapped pair, a rounded value, a point at sea), each sent to both endpoints.

Run: ``python bench/compare_answers.py --base /tmp/base-tree [--n 6000] [--seed 1]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PATHS = ("/api/v1/coordinates/validate", "/api/v1/locate")


def bodies(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` random location bodies (see the module docstring)."""
    rnd = random.Random(seed)

    def dec(lo: float, hi: float) -> str:
        return f"{rnd.uniform(lo, hi):.{rnd.choice([1, 2, 4, 6, 8])}f}"

    def dms(deg_hi: int) -> str:
        sec = rnd.choice([f"{rnd.randint(0, 59):02d}", f"{rnd.uniform(0, 60):.1f}", "60", "75"])
        return f"{rnd.randint(0, deg_hi)}°{rnd.choice([rnd.randint(0, 59), 60, 61])}'{sec}\""

    def text() -> str:
        k = rnd.randint(1, 9)
        if k == 1:
            return f"{dec(-8.85, -8.06)}{rnd.choice([', ', ',', ' ', ' , ', '; '])}{dec(114.43, 115.72)}"
        if k == 2:
            return f"{dms(10)} {rnd.choice(['LS', 'LU', 'ls', 'S'])} {dms(120)} {rnd.choice(['BT', 'BB', 'bt', 'E'])}"
        if k == 3:
            return f"geo:{dec(-8.85, -8.06)},{dec(114.43, 115.72)}" + rnd.choice(["", ";u=20", ";u=1500", "?z=17"])
        if k == 4:
            return f"https://www.google.com/maps/@{dec(-8.85, -8.06)},{dec(114.43, 115.72)},17z"
        if k == 5:  # the bench's own four texts
            return rnd.choice(["-8.%04d, 115.%04d", "geo:-8.%04d,115.%04d;u=20",
                               "https://www.google.com/maps/@-8.%04d,115.%04d,17z"]) % (
                rnd.randint(1000, 8500), rnd.randint(1000, 5500))
        if k == 6:
            return (f"8°{rnd.randint(10, 50):02d}'{rnd.randint(0, 59):02d}\" LS "
                    f"115°{rnd.randint(5, 30):02d}'{rnd.randint(0, 59):02d}\" BT")
        if k == 7:  # values out of range, swapped, signs
            return f"{rnd.choice(['', '+', '-'])}{dec(0, 200)} {rnd.choice(['', '+', '-'])}{dec(0, 200)}"
        if k == 8:  # inside a message
            return f"Tolong, lokasi {dec(-8.85, -8.06)}, {dec(114.43, 115.72)} dekat pasar"
        return f"{dec(114.43, 115.72)}, {dec(-8.85, -8.06)}"

    def point() -> dict[str, Any]:
        k = rnd.randint(1, 6)
        lat, lon = -8.30 - rnd.random() * 0.25, 115.05 + rnd.random() * 0.30
        if k == 1:
            return {"lat": round(lat, 6), "lon": round(lon, 6)}
        if k == 2:
            return {"text": (f"8°{rnd.randint(18, 32):02d}'{rnd.randint(0, 59):02d}.{rnd.randint(0, 9)}\" LS "
                             f"115°{rnd.randint(3, 20):02d}'{rnd.randint(0, 59):02d}.{rnd.randint(0, 9)}\" BT")}
        if k == 3:
            return {"lat": round(-lat, 6), "lon": round(lon, 6)}
        if k == 4:
            return {"lat": round(lon, 6), "lon": round(lat, 6)}
        if k == 5:
            return {"lat": round(lat, 2), "lon": round(lon, 2)}
        return {"lat": round(-8.86 - rnd.random() * 0.08, 6), "lon": round(115.30 + rnd.random() * 0.25, 6)}

    return [{"text": text()} if i % 2 else point() for i in range(n)]


def dump(out: Path, n: int, seed: int, lane_off: bool) -> None:
    """Answer every body on both endpoints with the app of the tree this process imports; write the
    answers (status, headers, body) as JSON lines."""
    import io

    from werkzeug.test import EnvironBuilder

    from geo_service.storage import repo
    from geo_service.web.app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="compare_answers_"))
    config: dict[str, Any] = {"data_dir": str(tmp), "secret_key": "compare-secret-key-0123456789",
                              "log_level": "ERROR"}
    if lane_off:
        config["fast_lane"] = False
    app = create_app(config)
    with app.extensions["geo_service"].storage.transaction() as session:
        _row, token = repo.create_token(session, name="compare", role="dispatcher")
    with out.open("w") as f:
        for body in bodies(n, seed):
            raw = json.dumps(body, ensure_ascii=False).encode()
            for path in PATHS:
                headers = [("Authorization", f"Bearer {token}"), ("X-Request-ID", "compare")]
                env = EnvironBuilder(path=path, method="POST", data=raw, content_type="application/json",
                                     headers=headers).get_environ()
                env["wsgi.input"] = io.BytesIO(raw)
                status: list[Any] = []
                data = b"".join(app(env, lambda s, h, exc_info=None, into=status: into.append((s, h))))
                f.write(json.dumps([path, body, status[0][0], status[0][1], data.decode()], ensure_ascii=False) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, help="the other tree (a git archive of the commit to compare with)")
    ap.add_argument("--n", type=int, default=6000, help="bodies (each sent to validate and to locate)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--lane-off", action="store_true", help="answer through the Flask path (GEO_SERVICE_FAST_LANE off)")
    ap.add_argument("--dump", type=Path, help=argparse.SUPPRESS)  # internal: one tree's answers
    args = ap.parse_args()
    if args.dump:
        dump(args.dump, args.n, args.seed, args.lane_off)
        return 0
    if args.base is None:
        ap.error("--base is required")
    tmp = Path(tempfile.mkdtemp(prefix="compare_answers_"))
    outs = {}
    for name, tree in (("base", args.base.resolve()), ("this", ROOT)):
        outs[name] = tmp / f"{name}.jsonl"
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("GEO_SERVICE_")}, "PYTHONPATH": str(tree)}
        cmd = [sys.executable, str(Path(__file__).resolve()), "--dump", str(outs[name]), "--n", str(args.n),
               "--seed", str(args.seed)] + (["--lane-off"] if args.lane_off else [])
        subprocess.run(cmd, env=env, cwd=tree, check=True)
    base_lines = outs["base"].read_text().splitlines()
    this_lines = outs["this"].read_text().splitlines()
    assert len(base_lines) == len(this_lines) == 2 * args.n, (len(base_lines), len(this_lines))
    differ = [(a, b) for a, b in zip(base_lines, this_lines, strict=True) if a != b]
    statuses: dict[str, int] = {}
    for line in this_lines:
        row = json.loads(line)
        statuses[f"{row[0].rsplit('/', 1)[1]} {row[2]}"] = statuses.get(f"{row[0].rsplit('/', 1)[1]} {row[2]}", 0) + 1
    digest = hashlib.sha256("\n".join(this_lines).encode()).hexdigest()[:16]
    print(f"{2 * args.n:,} answers ({args.n:,} bodies x validate, locate; seed {args.seed}"
          f"{', Flask path' if args.lane_off else ''}): {len(differ)} differ; answers by status: {statuses}; "
          f"sha256 {digest}")
    for a, b in differ[:5]:
        print("  before:", a[:400], "\n  after: ", b[:400])
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
