"""HTML pages: login, dispatcher console, officer page, admin boundary and station pages.

Views stay thin: they call the same services as the API and the folium renderers in
``geo_service.maps``. Every form carries a CSRF token; every inline script a per-response
nonce (the CSP allows no other inline script).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import login_user, logout_user

from geo_service.errors import GeoServiceError, Gone, RateLimited
from geo_service.geo import formats
from geo_service.geo.messages import flag_message
from geo_service.maps import (
    render_diff_map,
    render_locate_map,
    render_officer_map,
    render_overview_map,
    render_problems_map,
)
from geo_service.maps.render import set_in_force_words, unit_type_words
from geo_service.services import accounts, milestones, officer_links, ratelimit
from geo_service.services import boundaries as boundary_service
from geo_service.services.answers import to_builtins
from geo_service.services.locate import locate_location, structure_fields
from geo_service.services.sets import BOUNDARY_SETS, STATION_SETS
from geo_service.storage import repo
from geo_service.web import auth, security
from geo_service.web.auth import allow, public
from geo_service.web.common import (
    map_frame,
    page_setup,
    public_base_url,
    publish_set,
    tile_kwargs,
    unit_features,
    upload_boundaries,
    upload_stations,
    with_set_in_force,
)
from geo_service.web.context import actor, db_session, index, places, service, write_transaction
from geo_service.web.i18n import texts

bp = Blueprint("pages", __name__, template_folder="templates")
bp.before_request(page_setup)  # nonce, language and the CSRF check, as on every page
UNITS_URL = "/api/v1/units?level=polsek&simplify=0.0005"


# ------------------------------------------------------------------ plumbing


class _LazyCsrfToken:
    """The CSRF token, made only when a template prints it: a page without a form (the caller's
    location page) must not start a session and set a cookie."""

    def __str__(self) -> str:
        return security.csrf_token()

    def __html__(self) -> str:
        return str(self)


@bp.app_context_processor
def _template_globals() -> dict[str, Any]:
    return {"csp_nonce": g.get("csp_nonce", ""),
            "csrf_token": _LazyCsrfToken(), "principal": g.get("principal"), "public_base": public_base_url}


def _safe_next(target: str | None) -> str:
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


# ------------------------------------------------------------------ login


def _login_limits(username: str, known_device: bool) -> None:
    """429 when this client, or (from an unknown browser) this account, has tried too often."""
    limiter = service().rate_limiter
    per_client, window = ratelimit.LOGIN_PER_CLIENT
    ok, retry = limiter.hit(f"login:client:{security.client_address()}", per_client, window)
    if ok and not known_device:
        per_account, window = ratelimit.LOGIN_PER_ACCOUNT
        ok, retry = limiter.test(f"login:account:{username.casefold()}", per_account, window)
    if not ok:
        raise RateLimited(f"too many login attempts; try again in {retry} s", code="LOGIN_RATE_LIMITED",
                          extra={"retry_after": retry})


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    error = None
    if request.method == "POST":
        username = request.form.get("username", "")[:80]
        password = request.form.get("password", "")[:200]
        known_device = username in security.device_accounts()
        _login_limits(username, known_device)
        user = accounts.verify_login(db_session(), username, password)
        if user is not None:
            with write_transaction() as s:
                key = accounts.start_login_session(s, user, ttl_s=service().settings.session_ttl_s)
            session.clear()  # new session on login (no fixation)
            login_user(auth.SessionUser(key, auth.principal_of_user(user)))
            return security.remember_device(redirect(_safe_next(request.args.get("next"))), user.username)
        if not known_device:
            per_account, window = ratelimit.LOGIN_PER_ACCOUNT
            service().rate_limiter.hit(f"login:account:{username.casefold()}", per_account, window)
        error = texts(g.lang)["login_failed"]
    return render_template("login.html", error=error, next=_safe_next(request.args.get("next")))


@bp.post("/logout")
@public
def logout() -> Any:
    key = session.get("_user_id")
    if isinstance(key, str) and key:
        with write_transaction() as s:
            key_hash = accounts.end_login_session(s, key)
        if key_hash is not None:
            service().revocations.add("session", key_hash)
    logout_user()
    session.clear()
    return redirect(url_for("pages.login"))


@bp.get("/lang/<code>")
@public
def set_lang(code: str) -> Any:
    if code not in ("id", "en"):
        abort(404)
    resp = redirect(_safe_next(request.args.get("next")))
    resp.set_cookie("lang", code, max_age=365 * 86400, samesite="Lax", httponly=True)
    return resp


# ------------------------------------------------------------------ console


def _formats(point: dict[str, float] | None) -> list[tuple[str, str]]:
    if not point:
        return []
    lon, lat = point["lon"], point["lat"]
    return [
        ("DD", formats.format_dd(lon, lat)),
        ("DMS", formats.format_dms(lon, lat, lang=g.get("lang", "id"))),
        ("UTM", formats.format_utm(lon, lat)),
        ("Plus Code", formats.format_pluscode(lon, lat)),
    ]


def _summary(answer: dict[str, Any], t: dict[str, str]) -> str:
    status = answer.get("status")
    if status == "invalid" or not answer.get("point"):
        return t["invalid"]
    juris = answer.get("jurisdiction") or {}
    names = ", ".join(juris[lvl]["name"] for lvl in ("polsek", "polres", "polda") if juris.get(lvl))
    match = answer.get("match")
    if match == "nearest":
        return f"{t['at_sea']}: {names}"
    if match == "none":
        nearest = (answer.get("candidates") or [{}])[0]
        name = (nearest.get("polsek") or nearest.get("polres") or {}).get("name", "")
        return f"{t['outside']}: {name}"
    special = answer.get("special_area")
    if special:  # an airport/port/sea sector answers here, not the ordinary sector beneath it
        names += f" — {t['special_area']}: {special['name']}"
        if special.get("approximate"):
            names += f" ({t['approximate_area']})"
    if match == "border":
        return f"{t['border']} — {names}"
    return f"{t['in_unit']} {names}"


def structure_words(answer: dict[str, Any]) -> dict[str, str | None]:
    """The unit types and the set in force of an answer, worded for the page (as on its map)."""
    return {"types": unit_type_words(answer, g.lang) or None, "set": set_in_force_words(answer, g.lang)}


@bp.route("/", methods=["GET", "POST"])
@allow("dispatcher")
def console() -> Any:
    t = texts(g.lang)
    query = request.form.get("q", "")[:2000] if request.method == "POST" else ""
    hint = request.form.get("hint", "")[:40] if request.method == "POST" else ""
    answer = None
    link = None
    if request.method == "POST" and query.strip():
        body: dict[str, Any] = {"text": query}
        if hint:
            body["hint_unit"] = hint
        try:
            answer = to_builtins(locate_location(body, index(), lang=g.lang, places=places()))
        except GeoServiceError as exc:
            answer = {"status": "invalid", "point": None, "flags": [{"code": exc.code, "message": exc.detail}]}
        if request.form.get("action") == "officer" and answer.get("point"):
            settings = service().settings
            with write_transaction() as s:
                token, expires = officer_links.create_link(
                    s, answer, secret=settings.secret_key, ttl_s=settings.officer_link_ttl_s, actor=actor(),
                    request_id=g.request_id)
            juris = answer.get("jurisdiction") or {}
            leaf = juris.get("polsek") or juris.get("polres") or juris.get("polda") or {}
            link = {"url": url_for("pages.officer_page", token=token, _external=False),
                    "expires_at": expires.isoformat(timespec="minutes"), "unit_code": leaf.get("code")}
    if answer is not None and answer.get("jurisdiction"):
        answer = with_set_in_force(answer)
    if answer is not None and answer.get("point"):
        unit_fc, neighbours = unit_features(answer)
        place_fc = places().place_geojson(answer["place"]["code"]) if answer.get("place") else None
        # A village with its bundled polygon is drawn as that polygon, instead of its equal-area circle.
        drawn = {**answer, "uncertainty_m": None} if place_fc else answer
        map_html = render_locate_map(drawn, units_url=None, unit_geojson=unit_fc, neighbour_geojson=neighbours,
                                     place_geojson=place_fc, **tile_kwargs())
    else:
        idx = index()
        minx, miny, maxx, maxy = _bounds(idx)
        map_html = render_overview_map(units_url=UNITS_URL, bounds=(minx, miny, maxx, maxy), **tile_kwargs())
    units = sorted(((u.code, u.name) for u in index().units.values() if u.level != "polsek"), key=lambda x: x[0])
    return render_template(
        "console.html", query=query, hint=hint, answer=answer, summary=_summary(answer, t) if answer else None,
        formats=_formats(answer.get("point") if answer else None), map_html=map_frame(map_html), units=units,
        link=link, structure=structure_words(answer) if answer else None,
    )


def _bounds(idx: Any) -> tuple[float, float, float, float]:
    import shapely

    geoms = [u.geometry for u in idx.leaves]
    b = shapely.total_bounds(geoms) if geoms else (94.9, -11.0, 141.1, 6.1)
    return float(b[0]), float(b[1]), float(b[2]), float(b[3])


# ------------------------------------------------------------------ officer page


def _link_flag(item: Any) -> dict[str, str]:
    """A flag carried by an officer link ([code, params]), worded in the officer's language."""
    code, params = (item[0], item[1]) if isinstance(item, list) and len(item) == 2 else (str(item), {})
    return {"code": str(code), "message": flag_message(str(code), params if isinstance(params, dict) else {},
                                                       lang=g.lang)}


def _officer_answer(payload: dict[str, Any]) -> dict[str, Any]:
    idx = index()
    juris: dict[str, Any] = {}
    for level, code in (payload.get("j") or {}).items():
        try:
            unit = idx.unit(code)
            juris[level] = {"code": unit.code, "name": unit.name}
        except KeyError:
            juris[level] = {"code": code, "name": code}
    original = payload.get("o")
    return {
        "status": payload.get("s"), "match": payload.get("m"),
        "point": {"lat": payload["lat"], "lon": payload["lon"]},
        "original": {"lat": original[0], "lon": original[1]} if original else None,
        "uncertainty_m": payload.get("u"),
        "flags": [_link_flag(f) for f in payload.get("f") or []],
        "jurisdiction": juris or None,
        "unit_types": structure_fields(juris)["unit_types"],
    }


@bp.get("/p/<token>")
@public
def officer_page(token: str) -> Any:
    settings = service().settings
    limit, window = ratelimit.OFFICER_PAGE_PER_CLIENT
    ok, retry = service().rate_limiter.hit(f"officer:{security.client_address()}", limit, window)
    if not ok:
        raise RateLimited(f"too many requests; try again in {retry} s", code="RATE_LIMITED")
    try:
        session_db = db_session()
    except Exception:  # noqa: BLE001 - the page still opens from the signed token alone
        session_db = None
    try:
        payload = officer_links.read_link(token, secret=settings.secret_key, ttl_s=settings.officer_link_ttl_s,
                                          session=session_db)
        # Also while the database is away (issue 12, item 7): a link revoked before stays revoked.
        if service().revocations.is_revoked("link", payload["jti"], ask_redis=service().holder.degraded):
            raise Gone("this officer link was revoked", code="LINK_REVOKED")
    except GeoServiceError as exc:
        return make_response(render_template("officer_error.html", status=exc.status, detail=exc.detail), exc.status)
    answer = with_set_in_force(_officer_answer(payload), index().set_id)
    unit_fc, _ = unit_features(answer)
    map_html = render_officer_map(answer, unit_geojson=unit_fc, **tile_kwargs())
    lat, lon = payload["lat"], payload["lon"]
    nav = {"geo": f"geo:{lat:.6f},{lon:.6f}?q={lat:.6f},{lon:.6f}",
           "gmaps": f"https://www.google.com/maps/search/?api=1&query={lat:.6f},{lon:.6f}"}
    progress = milestones.link_progress(session_db, payload["jti"], lang=g.lang)  # 110 buttons (issue 16)
    resp = make_response(render_template("officer.html", answer=answer, nav=nav, formats=_formats(answer["point"]),
                                         map_html=map_frame(map_html), progress=progress,
                                         structure=structure_words(answer)))
    resp.headers["Cache-Control"] = "no-store"
    if progress is not None:  # the buttons send the phone's position (the browser asks for consent)
        resp.headers["Permissions-Policy"] = "geolocation=(self), camera=(), microphone=()"
    return resp


# ------------------------------------------------------------------ admin: boundaries


@bp.get("/admin/boundaries")
@allow()
def admin_boundaries() -> Any:
    listing = BOUNDARY_SETS.listing(db_session())
    return render_template("admin_boundaries.html", sets=listing["sets"], published=listing["published"])


@bp.post("/admin/boundaries")
@allow()
def admin_upload_boundaries() -> Any:
    return redirect(url_for("pages.admin_boundary_set", set_id=upload_boundaries()))


def _diff_geojson(diff: dict[str, Any], set_id: int) -> dict[str, Any]:
    session_db = db_session()
    new = {u.code: u for u in repo.load_units(session_db, set_id)}
    old = {u.code: u for u in repo.load_units(session_db, diff["against"])} if diff.get("against") else {}
    feats = []
    import shapely
    from shapely.geometry import mapping

    for change in diff["changes"][:2000]:
        unit = new.get(change["code"]) or old.get(change["code"])
        if unit is None:
            continue
        geom = shapely.simplify(unit.geometry, 0.0005, preserve_topology=True)
        feats.append({"type": "Feature", "geometry": mapping(geom),
                      "properties": {"code": unit.code, "name": unit.name, "level": unit.level,
                                     "change": change["change"]}})
    return {"type": "FeatureCollection", "features": feats}


@bp.get("/admin/boundaries/<int:set_id>")
@allow()
def admin_boundary_set(set_id: int) -> Any:
    session_db = db_session()
    bset = repo.get_boundary_set(session_db, set_id)
    published = BOUNDARY_SETS.published_id(session_db)
    summary = BOUNDARY_SETS.summary(session_db, set_id)
    report = bset.report or {}
    items = [*report.get("errors", []), *report.get("warnings", [])]
    map_items = [{**i, "point": i["location"]} if i.get("location") else i for i in items]
    problems_html = render_problems_map(map_items, units_url=f"/api/v1/units?set={set_id}&level=polsek&simplify=0.001"
                                        if summary["units"] else None, **tile_kwargs())
    # A draft is compared with the published set; the published set with the one it replaced.
    against = published if published != set_id else bset.base_set_id
    diff = boundary_service.diff_against_published(session_db, set_id, against) if against else None
    diff_html = render_diff_map(_diff_geojson(diff, set_id), **tile_kwargs()) if diff and diff["changes"] else None
    return render_template("admin_boundary_set.html", s=summary, report=report, diff=diff,
                           problems_map=map_frame(problems_html),
                           diff_map=map_frame(diff_html) if diff_html else None)


@bp.post("/admin/boundaries/<int:set_id>/publish")
@allow()
def admin_publish_boundaries(set_id: int) -> Any:
    publish_set(BOUNDARY_SETS, set_id)
    return redirect(url_for("pages.admin_boundary_set", set_id=set_id))


# ------------------------------------------------------------------ admin: stations


@bp.get("/admin/stations")
@allow()
def admin_stations() -> Any:
    session_db = db_session()
    listing = STATION_SETS.listing(session_db)
    current = repo.load_stations(session_db, listing["published"])
    return render_template("admin_stations.html", sets=listing["sets"], stations=current)


@bp.post("/admin/stations")
@allow()
def admin_upload_stations() -> Any:
    upload_stations()
    return redirect(url_for("pages.admin_stations"))


@bp.post("/admin/stations/<int:set_id>/publish")
@allow()
def admin_publish_stations(set_id: int) -> Any:
    publish_set(STATION_SETS, set_id)
    return redirect(url_for("pages.admin_stations"))
