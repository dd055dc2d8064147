"""Hardening (issue 12, item 2) against a real ``geo-service serve`` (2 workers) on a free 127.0.0.1 port.

The attack: clients that drip their headers or their body one byte at a time. With sync
workers six of them held every worker and the service stopped answering. Now the workers are
gthread (a slow client holds one thread, not a process; 16 threads per worker) with a deadline on
reading a request (``GEO_SERVICE_REQUEST_READ_TIMEOUT_S``, here 4 s): while twice the issue's six
slow clients drip, a normal client still gets every answer within a few seconds, and the slow ones
are cut off at the deadline (a body cut off while the view reads it is answered 408). The cheap
checks (role, size, content type) answer before any body is read.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.test_multiprocess import _cli, _free_port, _stop, _wait_healthy

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2
READ_TIMEOUT_S = 4.0
SLOW_CLIENTS = 12


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("slow-clients")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEO_SERVICE_")}
    env.update(GEO_SERVICE_DATA_DIR=str(tmp), GEO_SERVICE_LOG_LEVEL="WARNING", GEO_SERVICE_SECURE_COOKIES="false",
               GEO_SERVICE_REQUEST_READ_TIMEOUT_S=str(READ_TIMEOUT_S))
    token = _cli(env, "token", "create", "--role", "dispatcher", "--name", "slow-clients").strip().splitlines()[-1]
    port = _free_port()
    log = tmp / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "geo_service.cli", "serve", "--port", str(port),
                                 "--workers", str(WORKERS)], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(proc, base, log)
        yield {"base": base, "port": port, "token": token, "log": log}
    finally:
        _stop(proc)


class Dripper(threading.Thread):
    """Sends ``data`` one byte every ``interval_s`` until stopped, the server closes, or it is done."""

    def __init__(self, port: int, data: bytes, interval_s: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.data, self.interval_s = data, interval_s
        self.sent = 0
        self.closed_at: float | None = None
        self.reply = b""
        self.stop = threading.Event()

    def run(self) -> None:
        start = time.monotonic()
        try:
            for byte in self.data:
                if self.stop.is_set():
                    return
                self.sock.sendall(bytes([byte]))
                self.sent += 1
                self.sock.settimeout(self.interval_s)
                try:
                    chunk = self.sock.recv(4096)
                except TimeoutError:
                    continue
                self.reply += chunk
                if not chunk:
                    break
                self.sock.settimeout(1.0)
                while chunk := self.sock.recv(4096):
                    self.reply += chunk
                break
        except OSError:
            pass
        self.closed_at = time.monotonic() - start
        self.sock.close()


def _locate_request(token: str, body: bytes, *, content_length: int | None = None) -> bytes:
    return (f"POST /api/v1/locate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: {content_length or len(body)}\r\n\r\n").encode() + body


def test_slow_clients_do_not_stop_the_service(server: dict[str, Any]) -> None:
    body = b'{"lat": -8.6500, "lon": 115.2200, "uncertainty_m": 10}'
    full = _locate_request(server["token"], body)
    head_end = full.index(b"\r\n\r\n") + 4
    drippers = []
    for i in range(SLOW_CLIENTS):
        # Half drip their headers; half send the headers at once and drip the body.
        d = Dripper(server["port"], full) if i % 2 == 0 else Dripper(server["port"], full[head_end:])
        if i % 2:
            d.sock.sendall(full[:head_end])
        drippers.append(d)
        d.start()
    try:
        time.sleep(1.0)  # every slow client has started and holds a connection
        assert all(d.closed_at is None for d in drippers)
        latencies = []
        with requests.Session() as s:
            for _ in range(20):
                t0 = time.monotonic()
                r = s.post(server["base"] + "/api/v1/locate", data=body, timeout=5,
                           headers={"Authorization": f"Bearer {server['token']}", "Content-Type": "application/json"})
                latencies.append(time.monotonic() - t0)
                assert r.status_code == 200, r.text
                assert r.json()["jurisdiction"]["polda"]["code"] == "51"
            assert requests.get(server["base"] + "/health", timeout=5).json()["status"] == "ok"
        assert max(latencies) < 3.0, latencies
        # The slow clients are cut off at the read deadline (+ the poll and drip granularity), long
        # before they could finish (a whole request takes them ~60 s).
        for d in drippers:
            d.join(timeout=READ_TIMEOUT_S + 10)
        assert all(d.closed_at is not None for d in drippers)
        assert all(d.sent < len(d.data) for d in drippers), [d.sent for d in drippers]
        assert max(d.closed_at for d in drippers if d.closed_at) < READ_TIMEOUT_S + 8
        # A client cut off while the view read its body got a 408 problem, not a 500.
        replies = [d.reply.split(b"\r\n", 1)[0] for d in drippers if d.reply]
        assert all(b" 408 " in line for line in replies), replies
    finally:
        for d in drippers:
            d.stop.set()
    log = server["log"].read_text()
    assert "Traceback" not in log, log[-3000:]


def _raw(port: int, request: bytes, timeout_s: float = 3.0) -> tuple[str, float]:
    """Send ``request`` (headers, at most part of the body) and read the status line."""
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n", 1)[0].decode(), time.monotonic() - t0


def test_cheap_checks_answer_before_the_body_is_read(server: dict[str, Any]) -> None:
    port, token = server["port"], server["token"]
    # Headers announcing a body that never comes: the answer must not wait for it.
    no_auth = _locate_request(token, b"", content_length=100_000).replace(f"Bearer {token}".encode(), b"Bearer nope")
    status, took = _raw(port, no_auth)
    assert " 401 " in status and took < 2.0, (status, took)
    wrong_type = _locate_request(token, b"", content_length=100_000).replace(b"application/json", b"text/plain")
    status, took = _raw(port, wrong_type)
    assert " 415 " in status and took < 2.0, (status, took)
    too_big = _locate_request(token, b"", content_length=1 << 40)
    status, took = _raw(port, too_big)
    assert " 413 " in status and took < 2.0, (status, took)
    batch = _locate_request(token, b"", content_length=100_000).replace(b"/api/v1/locate", b"/api/v1/locate/batch") \
        .replace(b"application/json", b"application/xml")
    status, took = _raw(port, batch)
    assert " 415 " in status and took < 2.0, (status, took)


def test_deadline_socket_reads_waiting_bytes_at_once_and_still_enforces_the_deadline() -> None:
    """The read deadline on the socket itself: bytes already there come back from one
    non-blocking read (the common case, no timeout switching); a client that sends nothing is
    cut off at the deadline, and bytes that arrive within it are still read."""
    from geo_service.web.server import RequestReadTimeout, _DeadlineSocket

    ours, peer = socket.socketpair()
    with ours, peer:
        ours.setblocking(True)  # as gunicorn's gthread worker hands the socket to a thread
        sock = _DeadlineSocket(ours, 0.5)
        peer.sendall(b"GET / HTTP/1.1\r\n")
        assert sock.recv(8192) == b"GET / HTTP/1.1\r\n"
        assert ours.gettimeout() is None  # the socket is left blocking, as it was
        threading.Timer(0.1, peer.sendall, args=(b"Host: x\r\n",)).start()
        assert sock.recv(8192) == b"Host: x\r\n"  # waited for, within the deadline
        started = time.monotonic()
        with pytest.raises(RequestReadTimeout):
            sock.recv(8192)  # nothing more: cut off when the request's 0.5 s are over
        assert time.monotonic() - started < 2.0
        assert ours.gettimeout() is None
        sock.rearm()  # the next request on the connection gets its own deadline
        peer.sendall(b"x")
        assert sock.recv(1) == b"x"
