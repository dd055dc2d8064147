"""What a dispatcher's console costs to load: bytes over the wire and time to the first drawn map.

Run: ``python bench/bench_console.py [--runs 3] [--tiles none|closed]``

Starts ``geo-service serve`` (the checkout this interpreter imports, on a temporary SQLite data
dir with the bundled Bali set), logs in with Debian's headless Chromium and opens the console
with an empty cache, ``--runs`` times. Tiles are off (``none``) or point at a closed loopback
port (``closed``: an intranet without internet). Printed per run: bytes transferred (headers +
bodies, as Chromium counts them), requests, and milliseconds from navigation to the first map
layer drawn (a unit polygon path or a loaded reference-map canvas in the map frame). The baseline
in the same run is the login page (the smallest page of the service) loaded the same way.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.live import cli, start_server  # noqa: E402

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"]
FIRST_DRAWN = """() => {
  const f = document.querySelector('#map');
  const d = f && f.contentDocument;
  return !!d && (d.querySelector('path.leaflet-interactive') !== null
                 || d.querySelector('.gs-reference-map canvas.leaflet-tile-loaded') !== null);
}"""


def measure(browser, state, url: str, wait_map: bool) -> tuple[int, int, float]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, storage_state=state)
    page = ctx.new_page()
    sizes: list[int] = []
    page.on("requestfinished", lambda r: sizes.append(r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"]))
    t0 = time.perf_counter()
    page.goto(url)
    if wait_map:
        page.wait_for_function(FIRST_DRAWN, timeout=30000, polling=10)
    drawn_ms = (time.perf_counter() - t0) * 1000
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)
    ctx.close()
    return sum(sizes), len(sizes), drawn_ms


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tiles", choices=["none", "closed"], default="closed")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    tiles = "none" if args.tiles == "none" else "http://127.0.0.1:9/{z}/{x}/{y}.png"
    data = Path(tempfile.mkdtemp(prefix="bench_console_"))
    srv = start_server(data, extra_env={"GEO_SERVICE_TILE_URL": tiles, "GEO_SERVICE_SECURE_COOKIES": "false"})
    try:
        cli(srv.env, "user", "create", "--username", "bench", "--role", "dispatcher", "--password-stdin",
            stdin="correct-horse-battery\n")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
            page = browser.new_page()
            page.goto(srv.base + "/login")
            page.fill("input[name=username]", "bench")
            page.fill("input[name=password]", "correct-horse-battery")
            page.press("input[name=password]", "Enter")
            page.wait_for_load_state("networkidle")
            state = page.context.storage_state()
            base = [measure(browser, state, srv.base + "/login", False) for _ in range(args.runs)]
            console = [measure(browser, state, srv.base + "/", True) for _ in range(args.runs)]
            browser.close()
    finally:
        srv.stop()
    b_bytes, b_req, b_ms = (statistics.median(v) for v in zip(*base, strict=True))
    c_bytes, c_req, c_ms = (statistics.median(v) for v in zip(*console, strict=True))
    print(f"tiles: {args.tiles}; median of {args.runs} cold loads (empty cache), 1400x900")
    print(f"  login page (baseline)   {b_bytes:>10,.0f} bytes  {b_req:4.0f} requests  load {b_ms:7.0f} ms")
    print(f"  console, first map drawn {c_bytes:>9,.0f} bytes  {c_req:4.0f} requests  drawn {c_ms:6.0f} ms"
          f"  ratio bytes {c_bytes / max(b_bytes, 1):.1f}x")


if __name__ == "__main__":
    main()
