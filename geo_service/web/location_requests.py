"""Location requests (issue 15): the API for the console and the caller's one-time phone page.

* ``POST /api/v1/location-requests`` and ``GET /api/v1/location-requests/<id>`` (dispatcher,
  supervisor): make a request, read its state. ``?wait=`` long-polls (at most
  ``location_request_wait_s``, 20 s): the worker is held only while the caller has the page open
  (the console asks with ``wait=0`` every few seconds before that), and at most half of the
  host's workers wait at once (see README and bench/bench_location_request_poll.py).
* ``GET /l/<token>`` and ``POST /l/<token>`` (public, the token is the only key): the phone page
  and its answer. No cookie is set, the CSP allows only this page's own nonce'd script and style
  (plus Leaflet from ``/maps/`` when the caller chooses the pin), connections only to this host,
  and the token reaches nothing but its own request.
* ``GET /location-requests/<id>/map``: the answer on the console's map (folium, as the console).
"""

from __future__ import annotations

import multiprocessing
import secrets
import threading
from typing import Any

from flask import Blueprint, Response, g, jsonify, make_response, render_template, request

from geo_service.config import server_threads
from geo_service.errors import BadRequest, GeoServiceError, NotFound, RateLimited
from geo_service.maps import render_locate_map
from geo_service.services import location_requests as svc
from geo_service.services.location_request_types import (
    CallerReply,
    LocationRequestCreate,
    LocationRequestCreated,
    LocationRequestState,
)
from geo_service.web.auth import allow, public, require_principal
from geo_service.web.common import (
    json_body,
    map_frame,
    public_base_url,
    request_lang,
    tile_kwargs,
    unit_features,
    with_set_in_force,
)
from geo_service.web.context import actor, db_session, index, places, service, write_transaction
from geo_service.web.i18n import page_lang, texts
from geo_service.web.openapi import answers, body, doc, problems
from geo_service.web.security import tile_origin

bp = Blueprint("location_requests", __name__, template_folder="templates")
ROLES = ("dispatcher", "supervisor")
LEAFLET_JS = "/maps/leaflet-1.9.3/leaflet.js"
LEAFLET_CSS = "/maps/leaflet-1.9.3/leaflet.css"

def _long_poll_slots() -> Any:
    """At most half of the host's request threads (workers x gthread threads) may sit in a long
    poll at once (measured with sync workers in bench/bench_location_request_poll.py: when every
    worker held one, locate waited for the full bound). Created before gunicorn forks (preload), so
    every worker shares the same semaphore."""
    workers, threads = server_threads()
    slots = max(1, workers * threads // 2)
    try:
        return multiprocessing.BoundedSemaphore(slots)
    except (OSError, ImportError):  # no POSIX semaphores here (some sandboxes): count per process
        return threading.BoundedSemaphore(slots)


LONG_POLL_SLOTS = _long_poll_slots()


def _scope() -> str | None:
    """The reader's unit (requests of incidents outside it are refused); admins see everything."""
    principal = require_principal()
    return None if principal.role == "admin" else principal.unit_code


def _limit(key: str, limit: tuple[int, int]) -> None:
    ok, retry = service().rate_limiter.hit(key, *limit)
    if not ok:
        raise RateLimited(f"too many requests; try again in {retry} s", code="RATE_LIMITED",
                          extra={"retry_after": retry})


# ------------------------------------------------------------------ console API


@bp.post("/api/v1/location-requests")
@allow(*ROLES)
@doc("Make a location request for a caller: a signed, expiring (default 30 min), single-use link /l/<token>, "
     "an SMS/WhatsApp text in Bahasa Indonesia and a QR code (rate-limited per user)",
     tags=("location-requests",))
@body(LocationRequestCreate)
@answers(201, LocationRequestCreated)
@problems(404, 422, 429)
def create() -> tuple[Response, int]:
    principal = require_principal()
    body = json_body() if request.content_length else {}
    _limit(f"locreq:create:{principal.name}", svc.CREATE_LIMIT)
    settings = service().settings
    with write_transaction() as session:
        out = svc.create_request(session, body, secret=settings.secret_key, ttl_s=settings.location_request_ttl_s,
                                 actor=actor(), base_url=public_base_url(), scope=_scope(),
                                 request_id=g.get("request_id"))
    return jsonify(out), 201


def _wait_arg() -> float:
    raw = request.args.get("wait")
    if raw is None or raw == "":
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 60:
        raise BadRequest("wait must be a number of seconds in 0..60", code="INVALID_PARAMETER",
                         errors=[{"pointer": "?wait", "detail": "not a number of seconds in 0..60"}])
    return min(value, service().settings.location_request_wait_s)


@bp.get("/api/v1/location-requests/<public_id>")
@allow(*ROLES)
@doc("State of a location request and the located answer once the caller sent it; ?wait=N (<= 20 s) "
     "waits for the next change (long polling), ?since=<version> names the state you already have",
     params=[{"name": "wait", "in": "query", "schema": {"type": "number", "minimum": 0, "maximum": 20}},
             {"name": "since", "in": "query", "schema": {"type": "string", "maxLength": 20}}],
     tags=("location-requests",))
@answers(200, LocationRequestState)
@problems(400, 404)
def state(public_id: str) -> Response:
    wait_s = _wait_arg()
    since = (request.args.get("since") or "")[:20] or None
    # Every long-poll slot taken: answer at once; the console asks again a few seconds later.
    holding = wait_s > 0 and LONG_POLL_SLOTS.acquire(False)
    try:
        row = svc.wait_for_change(db_session(), public_id, wait_s=wait_s if holding else 0.0, since=since,
                                  scope=_scope())
    finally:
        if holding:
            LONG_POLL_SLOTS.release()
    return jsonify(svc.request_to_dict(row, lang=request_lang()))


@bp.get("/location-requests/<public_id>/map")
@allow(*ROLES)
def answer_map(public_id: str) -> Response:
    """The caller's located position on the console map (an iframe document)."""
    g.lang = page_lang()
    g.csp_nonce = secrets.token_urlsafe(16)
    row = svc.get_request(db_session(), public_id, scope=_scope())
    location = svc.request_to_dict(row, lang=g.lang)["location"]
    if not location or not location.get("point"):
        raise NotFound("this location request has no located answer yet", code="LOCATION_NOT_RECEIVED")
    location = with_set_in_force(location)
    unit_fc, neighbours = unit_features(location)
    html = render_locate_map(location, unit_geojson=unit_fc, neighbour_geojson=neighbours, **tile_kwargs())
    resp = make_response(map_frame(html))
    resp.headers["Cache-Control"] = "no-store"
    return resp


# ------------------------------------------------------------------ the caller's page


def _caller_headers(resp: Response) -> Response:
    """Strict CSP (this page's nonce, Leaflet from /maps/ for the pin), geolocation for this page only."""
    nonce = g.csp_nonce
    tiles = tile_origin(service().settings.tile_url)
    resp.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
        f"img-src 'self' data: {tiles}; connect-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'")
    resp.headers["Permissions-Policy"] = "geolocation=(self), camera=(), microphone=()"
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp


def _center() -> tuple[float, float]:
    """Where the pin map opens without a fix: the middle of the published units."""
    import shapely

    geoms = [u.geometry for u in index().leaves]
    if not geoms:
        return 118.0, -2.5
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    return float((minx + maxx) / 2), float((miny + maxy) / 2)


@bp.get("/l/<token>")
@public
def caller_page(token: str) -> Response:
    """The caller's phone page (Bahasa Indonesia unless the request was made in English)."""
    g.csp_nonce = secrets.token_urlsafe(16)
    _limit(f"locreq:open:{request.remote_addr}", svc.OPEN_LIMIT)
    settings = service().settings
    lang, status, error = page_lang(), 200, None
    row, short_code = None, None
    try:
        with write_transaction() as session:
            row = svc.open_for_caller(session, token, secret=settings.secret_key,
                                      user_agent=request.headers.get("User-Agent", ""), request_id=g.request_id)
            lang, short_code = row.lang, row.short_code
    except GeoServiceError as exc:
        status, error = exc.status, exc.code
        if row is None:
            try:
                row = svc.find_by_token(db_session(), token, secret=settings.secret_key)
                lang = row.lang
            except GeoServiceError:
                row = None
    t = texts(lang)
    lon, lat = _center()
    config = {"post": f"/l/{token}", "leaflet_js": LEAFLET_JS, "leaflet_css": LEAFLET_CSS,
              "tiles": settings.tile_url, "center": [lat, lon], "max_watch_ms": 20000, "good_m": 30,
              "t": {k[3:]: v for k, v in t.items() if k.startswith("lr_")}}
    html = render_template("location_request.html", t=t, lang=lang, error=error, nonce=g.csp_nonce, config=config,
                           short_code=short_code)
    return _caller_headers(make_response(html, status))


@bp.post("/l/<token>")
@public
@doc("The caller's answer to a location request (public: the link token is the key; single use, "
     "a retried identical answer is idempotent): a position, a typed place, or {'source': 'denied'}",
     tags=("location-requests",))
@body(svc.CallerAnswer)
@answers(200, CallerReply)
@problems(404, 409, 410, 422, 429)
def caller_answer(token: str) -> Response:
    g.csp_nonce = secrets.token_urlsafe(16)
    settings = service().settings
    # The signature first (no database read): made-up tokens must not each open a rate-limit bucket.
    link_id = svc.read_token(settings.secret_key, token)
    _limit(f"locreq:answer:{link_id}", svc.ANSWER_LIMIT)
    with write_transaction() as session:
        svc.find_by_token(session, token, secret=settings.secret_key)  # a bad token is 404 before the body
        reply = svc.accept_answer(session, token, json_body(), secret=settings.secret_key, index=index(),
                                  places=places(), request_id=g.get("request_id"))
    return _caller_headers(jsonify(reply))
