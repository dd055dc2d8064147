"""Attacks on the fast lane through a real ``geo-service serve`` (gunicorn, 2 workers).

Two servers share one database: one with the fast lane (the default), one with
``GEO_SERVICE_FAST_LANE=false``. Every raw request below (odd header casing and whitespace around
the token, path tricks, other methods, chunked bodies, oversized bodies) must get the same status,
headers and body from both (Date and a generated request id aside), and nothing without a valid
dispatcher token may ever get a 200. A token revoked by another process is refused by every worker
of the lane within the revocation sync interval. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from geo_service.services import revocations
from tests.live import LiveServer, cli, start_server

LIMIT = 64 * 1024
BODY = b'{"lat": -8.650123, "lon": 115.216789}'


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    data = tmp_path_factory.mktemp("fast-lane-server")
    extra = {"GEO_SERVICE_MAX_REQUEST_BYTES": str(LIMIT), "GEO_SERVICE_REQUEST_READ_TIMEOUT_S": "5"}
    lane = start_server(data, workers=2, roles=("admin", "dispatcher", "officer"), extra_env=extra)
    try:
        flask = start_server(data, workers=2, roles=(), extra_env={**extra, "GEO_SERVICE_FAST_LANE": "false"})
    except BaseException:
        lane.stop()
        raise
    flask.tokens = lane.tokens
    try:
        yield lane, flask
    finally:
        lane.stop()
        flask.stop()
    for server in (lane, flask):
        assert "Traceback" not in server.log.read_text(), server.log.read_text()[-3000:]


def port_of(server: LiveServer) -> int:
    return int(server.base.rsplit(":", 1)[1])


def raw(server: LiveServer, request: bytes, timeout_s: float = 10.0) -> tuple[str, list[tuple[str, str]], bytes]:
    """Send raw bytes (the request must ask ``Connection: close``) and read the whole answer."""
    with socket.create_connection(("127.0.0.1", port_of(server)), timeout=timeout_s) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = [(k, v.strip()) for k, _, v in (line.partition(":") for line in lines[1:])]
    return lines[0], headers, body


def comparable(answer: tuple[str, list[tuple[str, str]], bytes]) -> Any:
    status, headers, body = answer
    rid = dict(headers).get("X-Request-ID", "")
    if re.fullmatch(r"[0-9a-f]{32}", rid):
        body = body.replace(rid.encode(), b"<generated>")
        headers = [(k, "<generated>" if k == "X-Request-ID" else v) for k, v in headers]
    return status, [(k, v) for k, v in headers if k != "Date"], body


def request(path: str = "/api/v1/locate", *, method: str = "POST", auth: str | None = "Authorization: Bearer {t}",
            body: bytes = BODY, extra: tuple[str, ...] = (), length: bool = True, token: str = "") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", "Content-Type: application/json"]
    if auth is not None:
        lines.append(auth.format(t=token))
    if length:
        lines.append(f"Content-Length: {len(body)}")
    lines += list(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def both(servers: tuple[LiveServer, LiveServer], req: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    lane, flask = servers
    fast, slow = raw(lane, req), raw(flask, req)
    assert comparable(fast) == comparable(slow), (fast, slow)
    return fast


def chunked(body: bytes, size: int = 7) -> bytes:
    parts = [body[i:i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


AUTH_VARIANTS = [
    ("Authorization: Bearer {t}", True), ("authorization: Bearer {t}", True), ("AUTHORIZATION: bearer {t}", True),
    ("Authorization:Bearer {t}", True), ("Authorization:   Bearer {t}   ", True), ("Authorization: Bearer  {t}", True),
    ("Authorization: Bearer {t}x", False), ("Authorization: Bearer", False), ("Authorization: Basic {t}", False),
    ("Authorization: Bearer\t{t}", False), ("Authorization: Bearer {t}\r\nAuthorization: Bearer nope", False),
    ("Authorization: Bearer nope\r\nAuthorization: Bearer {t}", False), ("X-Authorization: Bearer {t}", False),
    ("Authorization : Bearer {t}", False), ("Authorization_: Bearer {t}", False), (None, False),
]


@pytest.mark.parametrize(("auth", "valid"), AUTH_VARIANTS)
def test_odd_authorization_headers(servers: tuple[LiveServer, LiveServer], auth: str | None, valid: bool) -> None:
    lane, _flask = servers
    for role in ("dispatcher", "officer"):
        status, _h, body = both(servers, request(auth=auth, token=lane.tokens[role]))
        if not (valid and role == "dispatcher"):
            assert " 200 " not in status, (auth, role, status, body[:300])
    # The header name's case is HTTP's; a valid dispatcher token in a plain header is served.
    if valid:
        assert " 200 " in both(servers, request(auth=auth, token=lane.tokens["dispatcher"]))[0]


@pytest.mark.parametrize("path", [
    "/api/v1//locate", "/api/v1/locate/", "/api/v1%2Flocate", "/api/v1/locate?lang=en", "/api/v1/locate?",
    "/api/v1/./locate", "/api/v1/x/../locate", "/api/v1/locate;x", "/API/V1/LOCATE", "/api/v1/locate%00",
    "//api/v1/locate", "/api/v1/locate/batch", "/api/v1/coordinates/validate?lang=en&lang=id",
    "/api/v1/coordinates%2Fvalidate", "http://127.0.0.1/api/v1/locate", "/api/v1/loc%61te",
])
def test_path_tricks(servers: tuple[LiveServer, LiveServer], path: str) -> None:
    lane, _flask = servers
    both(servers, request(path, token=lane.tokens["dispatcher"]))
    status, _h, _b = both(servers, request(path, auth=None))
    assert " 200 " not in status


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH", "post"])
def test_other_methods(servers: tuple[LiveServer, LiveServer], method: str) -> None:
    lane, _flask = servers
    both(servers, request(method=method, token=lane.tokens["dispatcher"]))
    assert " 200 " not in both(servers, request(method=method, auth=None))[0] or method == "OPTIONS"


def test_chunked_bodies(servers: tuple[LiveServer, LiveServer]) -> None:
    lane, _flask = servers
    token = lane.tokens["dispatcher"]
    good = request(token=token, body=chunked(BODY), length=False, extra=("Transfer-Encoding: chunked",))
    status, _h, body = both(servers, good)
    assert " 200 " in status and json.loads(body)["jurisdiction"]["polda"]["code"] == "51"
    big = json.dumps({"text": "x" * (2 * LIMIT)}).encode()
    status, _h, _b = both(servers, request(token=token, body=chunked(big, 4096), length=False,
                                           extra=("Transfer-Encoding: chunked",)))
    assert status.split()[1] in ("400", "413")
    # Both a length and chunked: gunicorn refuses the request before any app sees it.
    both(servers, request(token=token, body=chunked(BODY), extra=("Transfer-Encoding: chunked",)))


def test_bodies_over_the_limit(servers: tuple[LiveServer, LiveServer]) -> None:
    lane, _flask = servers
    token = lane.tokens["dispatcher"]
    big = json.dumps({"lat": -8.65, "lon": 115.2, "pad": "x" * LIMIT}).encode()
    status, headers, body = both(servers, request(token=token, body=big))
    assert " 413 " in status and dict(headers)["Content-Type"] == "application/problem+json"
    # Announced but never sent: refused at once, without waiting for the body.
    head = request(token=token, body=b"").replace(b"Content-Length: 0", f"Content-Length: {1 << 40}".encode())
    for server in servers:
        t0 = time.monotonic()
        status, _h, _b = raw(server, head)
        assert " 413 " in status and time.monotonic() - t0 < 3.0
    lying = request(token=token, body=BODY).replace(f"Content-Length: {len(BODY)}".encode(), b"Content-Length: 10")
    both(servers, lying)


def test_hostile_request_ids(servers: tuple[LiveServer, LiveServer]) -> None:
    lane, _flask = servers
    token = lane.tokens["dispatcher"]
    for given in ("req-1", "x" * 200, "bad\x7fid", "caf\xe9", "<svg onload=alert(1)>"):
        status, headers, _b = both(servers, request(token=token, extra=(f"X-Request-ID: {given}",)))
        if " 400 " in status and "X-Request-ID" not in dict(headers):
            continue  # gunicorn refuses the header itself (a control character): no app saw it
        rid = dict(headers)["X-Request-ID"]
        assert " 200 " in status and (rid == given[:64] or re.fullmatch(r"[0-9a-f]{32}", rid)), (given, status)


def test_a_token_revoked_on_another_worker_is_refused(servers: tuple[LiveServer, LiveServer]) -> None:
    lane, _flask = servers
    clear = cli(lane.env, "token", "create", "--role", "dispatcher", "--name", "lane-revoke-me").strip().splitlines()[-1]
    listed, data = lane.json("GET", "/api/v1/tokens", role="admin")
    assert listed == 200, data
    (token_id,) = [str(t["id"]) for t in data if t["name"] == "lane-revoke-me"]
    for _ in range(12):  # fresh connections: every worker has verified (and cached) the token
        assert " 200 " in raw(lane, request(token=clear))[0]
    cli(lane.env, "token", "revoke", token_id)  # another process: the workers learn it from the database
    time.sleep(revocations.SYNC_INTERVAL_S + 1.0)
    for _ in range(12):
        status, _h, body = raw(lane, request(token=clear))
        assert " 401 " in status, body[:300]


def test_slow_body_gets_408_from_the_lane(servers: tuple[LiveServer, LiveServer], tmp_path: Path) -> None:
    lane, _flask = servers
    for server in servers:
        req = request(token=lane.tokens["dispatcher"], body=BODY)
        with socket.create_connection(("127.0.0.1", port_of(server)), timeout=20) as sock:
            sock.sendall(req[:-10])  # the body stops short; the read deadline (5 s) ends the request
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        assert data.split(b"\r\n", 1)[0].split()[1] == b"408", data[:300]
