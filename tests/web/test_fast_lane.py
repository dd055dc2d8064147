"""The fast lane (``web/fast_lane.py``) answers exactly as the Flask path does.

Differential: every request of a corpus (good bodies of every format, malformed JSON, wrong,
expired and revoked tokens, roles without access, oversized and chunked bodies, other content
types, cookies, gzip accepted or not, ``?lang=`` and Accept-Language, ``at``, X-Request-ID given,
hostile or absent, other methods and paths) goes through the app's WSGI entry (the lane) and
through the plain Flask WSGI app behind it; status, headers (names, values and order) and body
bytes must be equal, ignoring only a request id the service generated. Each case also states which
lane must have answered, so the lane cannot silently hand everything to Flask (nor serve what it
must not).
"""

from __future__ import annotations

import gzip
import io
import json
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder

from geo_service.services import accounts
from geo_service.storage import repo
from geo_service.storage.types import utcnow
from geo_service.web.fast_lane import FastLane
from tests.conftest import dispose_app, make_app, make_token

LIMIT = 64 * 1024
LOCATE, VALIDATE = "/api/v1/locate", "/api/v1/coordinates/validate"
GOOD_BODIES: list[Any] = [
    {"lat": -8.650123, "lon": 115.216789},  # plain decimals
    {"text": "8°21'29.5\" LS 114°37'11.3\" BT"},  # DMS text
    {"lat": 8.409518, "lon": 115.188919},  # dropped minus
    {"lat": 115.262, "lon": -8.5069},  # swapped pair
    {"lat": -8.65, "lon": 115.22},  # rounded value
    {"lat": -8.80, "lon": 115.40},  # at sea
    {"text": "-8,6501 115,2167"},  # Indonesian decimal comma
    {"text": "geo:-8.6501,115.2167;u=35"},
    {"text": "https://www.google.com/maps/@-8.6501,115.2167,17z"},
    {"text": "-8.6501, 115.2167"},  # the decimal pair of the bench's validate mix
    {"text": "115.2167 -8.6501"},  # the same, longitude first
    {"text": "8°21'60\" LS 114°37'11\" BT"},  # 60 seconds: refused the general way
    {"text": "50S 303000 9043000"},  # UTM
    {"lat": 9043000, "lon": 303000, "crs": "EPSG:32750"},
    {"lat": -8.6501, "lon": 115.2167, "uncertainty_m": 250, "hint_unit": "51.71"},
    {"lat": -8.6501, "lon": 115.2167, "uncertainty_m": 60000},  # many units: a large answer (gzip)
    {"lat": -8.6501, "lon": 115.2167, "at": "2017-01-01T10:00:00+08:00"},
    {"lat": -8.6501, "lon": 115.2167, "at": "2001-01-01T00:00:00Z"},  # before the earliest set
    {"lat": 0, "lon": 0},
    {"lat": 95.0, "lon": 200.0},
    {"text": "Kuta"},  # a place name (no gazetteer in tests: the answer says so)
    {"text": "nowhere at all"},
    {"lat": -8.6501, "lon": 115.2167, "unknown_key": [1, 2, {"x": 3}]},
]
BAD_BODIES: list[bytes] = [
    b"", b"{", b"null", b"[]", b'"text"', b'{"lat": NaN, "lon": 115}', b'{"lat": "x", "lon": 115}',
    b'{"lat": -8.6, "lon": 115.2, "text": "both"}', b'{"lat": -8.6}', b'{"uncertainty_m": -1, "lat": 1, "lon": 2}',
    b'{"lat": -8.6, "lon": 115.2, "at": "yesterday"}', b'{"lat": -8.6, "lon": 115.2, "at": "2024-01-01T00:00:00"}',
    b'{"text": ' + b"[" * 40 + b"]" * 40 + b"}", b"\xff\xfe{}", b'{"lat": 1e400, "lon": 1}',
    b'{"hint_unit": "' + b"9" * 60 + b'", "lat": -8.6, "lon": 115.2}',
]


@pytest.fixture(scope="module")
def lapp(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    application = make_app(backend, tmp_path_factory.mktemp(f"fast-lane-{backend}"), max_request_bytes=LIMIT)
    yield application
    dispose_app(application)


@pytest.fixture(scope="module")
def toks(lapp: Any) -> dict[str, str]:
    out = {role: make_token(lapp, role, name=f"lane-{role}") for role in ("admin", "dispatcher", "supervisor", "officer")}
    out["expired"] = make_token(lapp, "dispatcher", name="lane-expired", expires_at=utcnow() - timedelta(minutes=1))
    out["revoked"] = make_token(lapp, "dispatcher", name="lane-revoked")
    with lapp.extensions["geo_service"].storage.transaction() as session:
        row = repo.find_token(session, out["revoked"])
        assert row is not None
        accounts.revoke_token(session, row.id, actor="test")
    return out


Env = Callable[[], dict[str, Any]]


def environ(path: str = LOCATE, body: bytes | Any = None, *, method: str = "POST", token: str | None = None,
            content_type: str | None = "application/json", headers: dict[str, str] | None = None,
            query: str = "", chunked: bool = False, length: str | None = None) -> Env:
    """A factory of fresh WSGI environs for one request (the body stream is read once per call)."""
    data = body if isinstance(body, bytes) else (b"" if body is None else json.dumps(body).encode())

    def make() -> dict[str, Any]:
        hdrs = dict(headers or {})
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        env = EnvironBuilder(path=path, method=method, data=data, content_type=content_type, headers=list(hdrs.items()),
                             query_string=query or None).get_environ()
        if content_type is None:
            env.pop("CONTENT_TYPE", None)
        if chunked:  # as gunicorn passes a chunked body: no length, the server ends the stream
            env.pop("CONTENT_LENGTH", None)
            env["HTTP_TRANSFER_ENCODING"] = "chunked"
            env["wsgi.input_terminated"] = True
        if length is not None:
            env["CONTENT_LENGTH"] = length
        env["wsgi.input"] = io.BytesIO(data)
        return env

    return make


def call(wsgi: Any, env: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    seen: list[Any] = []
    out = wsgi(env, lambda status, headers, exc_info=None: seen.append((status, list(headers))))
    try:
        body = b"".join(out)
    finally:
        getattr(out, "close", lambda: None)()
    return seen[0][0], seen[0][1], body


def normalised(result: tuple[str, list[tuple[str, str]], bytes], given_id: str | None) -> Any:
    """The answer with a generated request id (32 hex digits, not the one given) replaced by a mark."""
    status, headers, body = result
    rid = dict(headers).get("X-Request-ID", "")
    if rid != given_id and re.fullmatch(r"[0-9a-f]{32}", rid):
        headers = [(k, "<generated>" if k == "X-Request-ID" else v) for k, v in headers]
        body = body.replace(rid.encode(), b"<generated>")
    return status, headers, body


def count_handovers(lane: FastLane, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one each time the lane hands a request to Flask."""
    handed: list[int] = []
    flask_wsgi = lane.inner

    def counting(env: dict[str, Any], start_response: Any) -> Any:
        handed.append(1)
        return flask_wsgi(env, start_response)

    monkeypatch.setattr(lane, "inner", counting)
    return handed


@pytest.fixture()
def compare(lapp: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """compare(env, lane=True|False): both paths answer alike, and the lane served (or not)."""
    lane = lapp.wsgi_app
    assert isinstance(lane, FastLane) and lane.enabled
    flask_wsgi = lane.inner
    handed = count_handovers(lane, monkeypatch)

    def run(make: Env, *, lane_serves: bool) -> tuple[str, list[tuple[str, str]], bytes]:
        env = make()
        given = env.get("HTTP_X_REQUEST_ID")
        handed.clear()
        fast = call(lapp, env)
        assert (not handed) is lane_serves, f"expected the {'lane' if lane_serves else 'Flask path'} to answer"
        slow = call(flask_wsgi, make())
        assert normalised(fast, given) == normalised(slow, given)
        return fast

    return run


@pytest.mark.parametrize("path", [LOCATE, VALIDATE])
@pytest.mark.parametrize("index", range(len(GOOD_BODIES)))
def test_good_bodies_are_answered_alike(compare: Any, toks: dict[str, str], path: str, index: int) -> None:
    status, headers, body = compare(environ(path, GOOD_BODIES[index], token=toks["dispatcher"]), lane_serves=True)
    assert status == "200 OK" and dict(headers)["Content-Type"] == "application/json"
    assert json.loads(body)["status"] in ("valid", "corrected", "suspect", "invalid", "approximate")


@pytest.mark.parametrize("path", [LOCATE, VALIDATE])
@pytest.mark.parametrize("body", BAD_BODIES)
def test_malformed_bodies_get_flasks_problem(compare: Any, toks: dict[str, str], path: str, body: bytes) -> None:
    status, headers, raw = compare(environ(path, body, token=toks["dispatcher"]), lane_serves=False)
    assert status.startswith("4") and dict(headers)["Content-Type"] == "application/problem+json", raw


@pytest.mark.parametrize("who", ["expired", "revoked", "unknown", "supervisor", "officer", "admin"])
def test_tokens_and_roles(compare: Any, toks: dict[str, str], who: str) -> None:
    token = toks.get(who, "gs_not-a-token")
    status, _h, _b = compare(environ(LOCATE, GOOD_BODIES[0], token=token), lane_serves=who == "admin")
    assert status[:3] == {"expired": "401", "revoked": "401", "unknown": "401", "supervisor": "403",
                          "officer": "403", "admin": "200"}[who]


@pytest.mark.parametrize("header", [
    "Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer ", "bearer {t}", "BEARER {t}", "Bearer  {t}", "Bearer {t} ",
    "Bearer\t{t}", " Bearer {t}", "Bearer {t}x", "Token {t}", "Bearer {t}, Bearer {t}",
])
def test_odd_authorization_headers(compare: Any, toks: dict[str, str], header: str) -> None:
    value = header.format(t=toks["dispatcher"])
    make = environ(LOCATE, GOOD_BODIES[0], headers={"Authorization": value})
    ok = value.partition(" ")[0].lower() == "bearer" and value.partition(" ")[2].strip() == toks["dispatcher"]
    status, _h, _b = compare(make, lane_serves=ok)
    assert status[:3] == ("200" if ok else "401")


def test_no_authorization_and_a_page_cookie(compare: Any, toks: dict[str, str]) -> None:
    assert compare(environ(LOCATE, GOOD_BODIES[0]), lane_serves=False)[0].startswith("401")
    cookie = {"Cookie": "geo_service_session=abc; lang=en"}
    assert compare(environ(LOCATE, GOOD_BODIES[0], headers=cookie), lane_serves=False)[0].startswith("401")
    with_token = environ(LOCATE, GOOD_BODIES[0], token=toks["dispatcher"], headers=cookie)
    assert compare(with_token, lane_serves=False)[0] == "200 OK"


@pytest.mark.parametrize(("content_type", "lane_serves"), [
    ("application/json", True), ("application/json; charset=utf-8", True), ("Application/JSON", True),
    ("text/plain", False), ("application/geo+json", False), ("application/x-www-form-urlencoded", False),
    (None, False), ("application/jsonx", False), ("multipart/form-data; boundary=x", False),
])
def test_content_types(compare: Any, toks: dict[str, str], content_type: str | None, lane_serves: bool) -> None:
    compare(environ(LOCATE, GOOD_BODIES[0], token=toks["dispatcher"], content_type=content_type),
            lane_serves=lane_serves)


def test_body_size_limit_and_lengths(compare: Any, toks: dict[str, str]) -> None:
    tok = toks["dispatcher"]
    big = json.dumps({"text": "x" * LIMIT}).encode()
    assert compare(environ(LOCATE, big, token=tok), lane_serves=False)[0].startswith("413")
    just = json.dumps({"lat": -8.65, "lon": 115.2, "pad": "x" * (LIMIT - 60)}).encode()
    assert len(just) <= LIMIT
    assert compare(environ(LOCATE, just, token=tok), lane_serves=True)[0] == "200 OK"
    # (Flask answers an oversized chunked body 400 rather than 413; it is refused either way.)
    assert compare(environ(LOCATE, big, token=tok, chunked=True), lane_serves=False)[0][:3] in ("400", "413")
    assert compare(environ(LOCATE, GOOD_BODIES[0], token=tok, chunked=True), lane_serves=False)[0] == "200 OK"
    for odd in ("-1", "+50", " 50", "5e1", "0x32", "", "99999999999999999999"):
        compare(environ(LOCATE, GOOD_BODIES[0], token=tok, length=odd), lane_serves=False)
    # A body shorter than its Content-Length (the client stopped): Flask's answer, from the bytes read.
    short = environ(LOCATE, GOOD_BODIES[0], token=tok, length=str(len(json.dumps(GOOD_BODIES[0])) + 10))
    compare(short, lane_serves=False)


@pytest.mark.parametrize("accept", [None, "gzip", "gzip;q=0", "identity", "deflate, gzip;q=0.5", "*", "br"])
def test_gzip_as_the_flask_path(compare: Any, toks: dict[str, str], accept: str | None) -> None:
    headers = {"Accept-Encoding": accept} if accept is not None else {}
    big = environ(LOCATE, {"lat": -8.6501, "lon": 115.2167, "uncertainty_m": 60000}, token=toks["dispatcher"],
                  headers=headers)
    status, got, body = compare(big, lane_serves=True)
    if dict(got).get("Content-Encoding") == "gzip":
        assert len(gzip.decompress(body)) >= 8 * 1024 and dict(got)["Vary"] == "Accept-Encoding"
    small = environ(LOCATE, GOOD_BODIES[0], token=toks["dispatcher"], headers=headers)
    assert "Content-Encoding" not in dict(compare(small, lane_serves=True)[1])


def test_the_large_answer_is_gzipped_when_accepted(compare: Any, toks: dict[str, str]) -> None:
    big = environ(LOCATE, {"lat": -8.6501, "lon": 115.2167, "uncertainty_m": 60000}, token=toks["dispatcher"],
                  headers={"Accept-Encoding": "gzip"})
    assert dict(compare(big, lane_serves=True)[1]).get("Content-Encoding") == "gzip"


@pytest.mark.parametrize(("query", "accept_language"), [
    ("", None), ("lang=en", None), ("lang=id", "en"), ("", "en"), ("", "en-US,en;q=0.9"), ("", "fr, id;q=0.1"),
    ("lang=xx", "en"), ("lang=en&lang=id", None), ("lang=%FF", None), ("at=2020-01-01", None), ("", "*"),
])
def test_language_choice(compare: Any, toks: dict[str, str], query: str, accept_language: str | None) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    for path, body in ((LOCATE, GOOD_BODIES[2]), (VALIDATE, GOOD_BODIES[3])):  # answers with flag messages
        compare(environ(path, body, token=toks["dispatcher"], headers=headers, query=query), lane_serves=True)


@pytest.mark.parametrize("given", ["req-42", "a" * 100, "with space", "tab\there", "é-accent", "\x7f", "",
                                   "<script>alert(1)</script>"])
def test_request_ids(compare: Any, toks: dict[str, str], given: str) -> None:
    env = environ(LOCATE, GOOD_BODIES[0], token=toks["dispatcher"], headers={"X-Request-ID": given})
    _s, headers, _b = compare(env, lane_serves=True)
    rid = dict(headers)["X-Request-ID"]
    if given and given.isascii() and given.isprintable():
        assert rid == given[:64]
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", rid)
    # An error answer carries the same id in its header and body.
    bad = environ(LOCATE, b"{", token=toks["dispatcher"], headers={"X-Request-ID": given})
    _s, headers, body = compare(bad, lane_serves=False)
    assert json.loads(body)["request_id"] == dict(headers)["X-Request-ID"]


@pytest.mark.parametrize(("method", "path"), [
    ("GET", LOCATE), ("HEAD", LOCATE), ("OPTIONS", LOCATE), ("PUT", LOCATE), ("post", LOCATE),
    ("POST", "/api/v1//locate"), ("POST", "/api/v1/locate/"), ("POST", "/api/v1/locate/batch"),
    ("POST", "/API/v1/locate"), ("POST", "/api/v1/coordinates//validate"), ("POST", "/api/v1/coordinates/validate/"),
])
def test_other_methods_and_paths_go_to_flask(compare: Any, toks: dict[str, str], method: str, path: str) -> None:
    compare(environ(path, GOOD_BODIES[0], method=method, token=toks["dispatcher"]), lane_serves=False)


def test_an_error_in_the_answer_is_flasks_500(compare: Any, toks: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                              lapp: Any) -> None:
    from geo_service.web import api

    def boom(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("secret-internal-detail")

    monkeypatch.setattr(api, "locate_location", boom)
    monkeypatch.setitem(lapp.config, "PROPAGATE_EXCEPTIONS", False)
    status, _h, body = compare(environ(LOCATE, GOOD_BODIES[0], token=toks["dispatcher"],
                                       headers={"X-Request-ID": "r-1"}), lane_serves=False)
    assert status.startswith("500") and b"secret-internal-detail" not in body and b'"r-1"' in body


def test_the_lane_closes_the_database_session(lapp: Any, toks: dict[str, str]) -> None:
    storage = lapp.extensions["geo_service"].storage
    opened: list[Any] = []
    real = storage.session

    def tracking() -> Any:
        session = real()
        opened.append(session)
        return session

    from geo_service.web import auth

    auth.TOKEN_CACHE.drop()  # the next call reads its token from the database
    storage.session = tracking
    try:
        status, _h, _b = call(lapp, environ(LOCATE, GOOD_BODIES[0], token=toks["dispatcher"])())
    finally:
        storage.session = real
    assert status == "200 OK" and opened
    assert all(not s.in_transaction() for s in opened)


def test_the_setting_turns_the_lane_off(tmp_path: Any) -> None:
    application = make_app("sqlite", tmp_path, fast_lane=False)
    try:
        assert isinstance(application.wsgi_app, FastLane) and not application.wsgi_app.enabled
        token = make_token(application, "dispatcher")
        r = application.test_client().post(LOCATE, json=GOOD_BODIES[0], headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200
    finally:
        dispose_app(application)


def test_the_lane_serves_what_gunicorn_hands_it(lapp: Any, toks: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The environ gunicorn builds from a real request is the lane's case (not only the test client's)."""
    import socket

    from gunicorn.config import Config
    from gunicorn.http.parser import RequestParser
    from gunicorn.http.wsgi import create

    handed = count_handovers(lapp.wsgi_app, monkeypatch)
    body = json.dumps(GOOD_BODIES[0]).encode()
    raw = (f"POST {LOCATE} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           f"authorization: Bearer {toks['dispatcher']}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    ours, theirs = socket.socketpair()
    try:
        theirs.sendall(raw)
        cfg = Config()
        req = next(iter(RequestParser(cfg, ours, ("127.0.0.1", 5555))))
        _resp, env = create(req, ours, ("127.0.0.1", 5555), ("127.0.0.1", 8000), cfg)
        status, headers, answer = call(lapp, env)
    finally:
        ours.close()
        theirs.close()
    assert status == "200 OK" and not handed
    assert json.loads(answer)["jurisdiction"]["polda"]["code"] == "51"


# Review findings (second pair of eyes on the lane, 2026-11-30).

def _counting_find_token(monkeypatch: pytest.MonkeyPatch, fail: bool = False) -> list[str]:
    """Count token look-ups in the database (and make them fail as a database that is away)."""
    from sqlalchemy.exc import OperationalError

    seen: list[str] = []
    real = repo.find_token

    def find(session: Any, clear: str) -> Any:
        seen.append(clear)
        if fail:
            raise OperationalError("SELECT", {}, Exception("connection refused"))
        return real(session, clear)

    monkeypatch.setattr(repo, "find_token", find)
    return seen


@pytest.mark.parametrize("fail", [False, True], ids=["unknown-token", "database-away"])
def test_a_refused_token_is_looked_up_once(lapp: Any, monkeypatch: pytest.MonkeyPatch, fail: bool) -> None:
    """A token the lane refuses (or cannot check: the database is away) is answered by Flask from that
    same failure: one look-up, not two (each may wait for a connection during an outage)."""
    from geo_service.web import auth

    seen = _counting_find_token(monkeypatch, fail=fail)
    auth.TOKEN_CACHE.drop()
    lane = lapp.wsgi_app
    handed = count_handovers(lane, monkeypatch)
    status, headers, body = call(lapp, environ(LOCATE, GOOD_BODIES[0], token="made-up-token-" + str(fail))())
    assert handed, "Flask answers a refused token"
    assert len(seen) == 1, f"the token was looked up {len(seen)} times"
    assert status.startswith("503" if fail else "401"), (status, body[:200])
    assert dict(headers)["Content-Type"] == "application/problem+json"
    # The plain Flask path gives the same answer with its one look-up.
    seen.clear()
    auth.TOKEN_CACHE.drop()
    slow = call(lane.inner, environ(LOCATE, GOOD_BODIES[0], token="made-up-token-" + str(fail))())
    assert len(seen) == 1 and normalised(slow, None) == normalised((status, headers, body), None)


def test_a_failure_of_the_lanes_own_code_is_logged(lapp: Any, toks: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    """Flask still answers (200), but the lane's bug does not hide behind a slower answer."""
    from geo_service.web import fast_lane

    def broken(_answer: Any) -> bytes:
        raise RuntimeError("lane bug")

    monkeypatch.setattr(fast_lane, "to_json", broken)
    with caplog.at_level("WARNING", logger="geo_service.web.fast_lane"):
        status, _h, _b = call(lapp, environ(LOCATE, GOOD_BODIES[0], token=toks["dispatcher"],
                                            headers={"X-Request-ID": "lane-bug-1"})())
    assert status == "200 OK"
    assert any("unexpected error" in r.getMessage() and "lane-bug-1" in r.getMessage() for r in caplog.records)


def test_ordinary_refusals_are_not_logged_as_lane_errors(lapp: Any, toks: dict[str, str],
                                                         caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="geo_service.web.fast_lane"):
        call(lapp, environ(LOCATE, b"{", token=toks["dispatcher"])())
        call(lapp, environ(LOCATE, GOOD_BODIES[0], token="nobody")())
        call(lapp, environ(LOCATE, GOOD_BODIES[0], token=toks["officer"])())
    assert not [r for r in caplog.records if r.name == "geo_service.web.fast_lane"]


def test_a_content_length_of_thousands_of_digits(compare: Any, toks: dict[str, str]) -> None:
    """int() refuses digit strings past 4,300 characters: the lane must not crash on one (servers other
    than gunicorn pass it on); Flask answers."""
    compare(environ(LOCATE, GOOD_BODIES[0], token=toks["dispatcher"], length="0" * 5000 + "17"), lane_serves=False)


def test_made_up_tokens_cannot_flush_verified_ones(lapp: Any, toks: dict[str, str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The exploit: a flood of distinct made-up tokens (each cached as unknown) used to clear the whole
    token cache at 10,000 entries, so verified dispatchers lost their fallback for a database outage.
    The bound is lowered to 40 here; the flood is 3x that."""
    from geo_service.web import auth

    auth.TOKEN_CACHE.drop()
    monkeypatch.setattr(auth._TokenCache, "MAX_ENTRIES", 40)
    assert call(lapp, environ(LOCATE, GOOD_BODIES[0], token=toks["dispatcher"])())[0] == "200 OK"
    for i in range(120):
        assert call(lapp, environ(LOCATE, GOOD_BODIES[0], token=f"flood-{i}")())[0].startswith("401")
    seen = _counting_find_token(monkeypatch, fail=True)  # the database goes away
    lapp.extensions["geo_service"].holder.degraded = True
    try:
        status, _h, body = call(lapp, environ(LOCATE, GOOD_BODIES[0], token=toks["dispatcher"])())
    finally:
        lapp.extensions["geo_service"].holder.degraded = False
    assert status == "200 OK", body[:300]
    assert not seen, "a verified token is answered from the cache during the outage"


def test_options_lists_the_methods_in_one_order(lapp: Any, toks: dict[str, str]) -> None:
    """Flask's automatic OPTIONS answer takes its Allow list from a set, whose order differs between
    worker processes (string hashing is seeded per process): sorted, every worker answers alike."""
    status, headers, _b = call(lapp, environ(LOCATE, None, method="OPTIONS", token=toks["dispatcher"])())
    assert status == "200 OK" and dict(headers)["Allow"] == "OPTIONS, POST"
