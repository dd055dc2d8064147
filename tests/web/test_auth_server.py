"""Issue 12 against a real ``geo-service serve`` (2 gunicorn workers, Redis, one trusted proxy hop):

* login throttling counts across both workers (shared Redis), per client and per account;
* a page on another origin cannot make a logged-in browser (real Chromium) change data through
  the API, while the service's own page can, with its CSRF token (item 4).

Needs Redis and, for the browser test, Debian's chromium (skips on a laptop, fails under CI=true).
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from geo_service.services import ratelimit
from tests.conftest import chromium_path, need
from tests.web.test_hardening import REDIS_URL, _redis_up

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "geo_service.cli", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    need(_redis_up(), "Redis is not running on 127.0.0.1:6379")
    data = tmp_path_factory.mktemp("auth-server")
    env = {**os.environ, "GEO_SERVICE_DATA_DIR": str(data), "GEO_SERVICE_REDIS_URL": REDIS_URL,
           "GEO_SERVICE_TRUSTED_PROXIES": "1", "GEO_SERVICE_SECURE_COOKIES": "false",
           "GEO_SERVICE_TILE_URL": "http://127.0.0.1:9/{z}/{x}/{y}.png", "GEO_SERVICE_LOG_LEVEL": "WARNING"}
    _cli(env, "db", "upgrade")
    admin_name, browser_admin = f"admin-{random.getrandbits(32):x}", f"browser-{random.getrandbits(32):x}"
    for name in (admin_name, browser_admin):  # the lock-out test must not hold the browser test's account
        _cli(env, "user", "create", "--username", name, "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    token = _cli(env, "token", "create", "--role", "admin", "--name", "server-admin").strip().splitlines()[-1]
    port = _free_port()
    log = data / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "geo_service.cli", "serve", "--port", str(port),
                                 "--workers", "2"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log.read_text()[-2000:]
            try:
                if requests.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "geo-service serve did not come up"
            time.sleep(0.2)
        # /health answers as soon as one worker runs; the tests need both (a busy machine forks slowly).
        while len(_worker_pids(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        yield {"base": base, "admin": admin_name, "browser_admin": browser_admin, "token": token, "pid": proc.pid}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the process group this fixture started
        proc.wait(timeout=20)


def _worker_pids(master: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True, check=False)
    return {int(p) for p in out.stdout.split()}


def _attempt(base: str, client_addr: str, username: str, password: str = "wrong-password") -> int:
    """One login from a fresh browser behind our (trusted) proxy."""
    s = requests.Session()
    headers = {"X-Forwarded-For": client_addr}
    page = s.get(f"{base}/login", headers=headers, timeout=10).text
    csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    r = s.post(f"{base}/login", data={"username": username, "password": password, "csrf_token": csrf},
               headers=headers, allow_redirects=False, timeout=10)
    return r.status_code


def _addr() -> str:
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def test_login_throttle_counts_across_both_workers(server: dict[str, Any]) -> None:
    assert len(_worker_pids(server["pid"])) == 2
    per_client, _window = ratelimit.LOGIN_PER_CLIENT
    client = _addr()
    codes = [_attempt(server["base"], client, f"nobody-{i}-{random.getrandbits(32):x}")
             for i in range(per_client * 2)]
    # Each worker counting alone would let up to twice the limit through.
    assert codes == [200] * per_client + [429] * per_client, codes
    # Another client behind the same proxy is not held.
    assert _attempt(server["base"], _addr(), "nobody-else") == 200


def test_account_limit_across_clients_and_workers(server: dict[str, Any]) -> None:
    per_account, _window = ratelimit.LOGIN_PER_ACCOUNT
    victim = f"victim-{random.getrandbits(32):x}"
    codes = [_attempt(server["base"], _addr(), victim) for _ in range(per_account)]
    assert codes == [200] * per_account
    assert _attempt(server["base"], _addr(), victim) == 429


def test_the_real_admin_is_not_locked_out_by_an_attacker(server: dict[str, Any]) -> None:
    base, name = server["base"], server["admin"]
    desk = requests.Session()
    headers = {"X-Forwarded-For": _addr()}

    def login(session: requests.Session, addr_headers: dict[str, str]) -> int:
        page = session.get(f"{base}/login", headers=addr_headers, timeout=10).text
        csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        return session.post(f"{base}/login", data={"username": name, "password": PASSWORD, "csrf_token": csrf},
                            headers=addr_headers, allow_redirects=False, timeout=10).status_code

    assert login(desk, headers) == 302  # the admin's usual browser: it now holds the device cookie
    per_account, _window = ratelimit.LOGIN_PER_ACCOUNT
    for _ in range(per_account + 3):
        _attempt(base, _addr(), name)
    assert _attempt(base, _addr(), name, PASSWORD) == 429  # unknown browsers wait, even with the password
    desk.cookies.pop("geo_service_session", None)
    assert login(desk, headers) == 302  # the admin at the usual desk gets in


# ------------------------------------------------------------------ item 4 in a real browser


class _EvilSite:
    """Another origin (another port of 127.0.0.1) serving pages that attack the service."""

    def __init__(self, pages: dict[str, str]) -> None:
        site_pages = pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = site_pages.get(self.path, "not found").encode()
                self.send_response(200 if self.path in site_pages else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _token_state(server: dict[str, Any], token_id: int) -> str | None:
    listed = requests.get(f"{server['base']}/api/v1/tokens", timeout=10,
                          headers={"Authorization": f"Bearer {server['token']}"}).json()
    return next(t["revoked_at"] for t in listed if t["id"] == token_id)


def test_cross_origin_page_cannot_write_through_a_logged_in_browser(server: dict[str, Any]) -> None:
    need(chromium_path() is not None, "Debian chromium is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "playwright (python) is not installed")
    base = server["base"]
    bearer = {"Authorization": f"Bearer {server['token']}"}
    target = requests.post(f"{base}/api/v1/tokens", json={"name": "csrf-target", "role": "officer"}, headers=bearer,
                           timeout=10).json()
    revoke = f"{base}/api/v1/tokens/{target['id']}/revoke"
    evil = _EvilSite({
        "/fetch": f"""<!doctype html><title>loading</title><script>
fetch("{revoke}", {{method: "POST", mode: "no-cors", credentials: "include"}})
  .then(() => {{ document.title = "sent"; }}, () => {{ document.title = "sent"; }});
</script>""",
        "/form": f"""<!doctype html><title>form</title>
<form id="f" method="post" action="{revoke}"><input name="x" value="1"></form>
<script>document.getElementById("f").submit();</script>""",
    })
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            try:
                context = browser.new_context()
                page = context.new_page()
                page.goto(f"{base}/login")
                page.fill("input[name=username]", server["browser_admin"])
                page.fill("input[name=password]", PASSWORD)
                with page.expect_navigation():
                    page.click("button[type=submit]")
                assert page.url.rstrip("/") == base, page.url
                assert any(c["name"] == "geo_service_session" for c in context.cookies())

                attacker = context.new_page()  # the same logged-in browser visits another site
                attacker.goto(f"{evil.base}/fetch")
                attacker.wait_for_function("document.title === 'sent'", timeout=15000)
                with attacker.expect_navigation():
                    attacker.goto(f"{evil.base}/form")
                assert f"{target['id']}/revoke" in attacker.url
                assert "CROSS_ORIGIN" in attacker.content()
                assert _token_state(server, target["id"]) is None, "the cross-origin request revoked the token"

                # The service's own page, with its CSRF token in the header, may.
                status = page.evaluate("""async (url) => {
                    const csrf = document.querySelector('input[name=csrf_token]').value;
                    const r = await fetch(url, {method: "POST", headers: {"X-CSRFToken": csrf}});
                    return r.status;
                }""", revoke)
                assert status == 200
                assert _token_state(server, target["id"]) is not None
            finally:
                browser.close()
    finally:
        evil.close()
