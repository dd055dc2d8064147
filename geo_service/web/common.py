"""What every blueprint shares: reading a JSON body, the answer's language, page setup, maps on pages,
error pages, admin form fields and publishing a set.

Blueprint modules import from here (and from ``auth``, ``context``, ``i18n``, ``openapi``, ``problem``,
``security``, ``uploads``), never from each other (``tests/test_layers.py``).
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from flask import Request, Response, g, make_response, render_template, request

from geo_service.errors import BadRequest, UnsupportedMediaType
from geo_service.services import boundaries as boundary_service
from geo_service.services.answers import Q, decode_query, to_json
from geo_service.services.sets import SetKind
from geo_service.services.structure import WIB
from geo_service.services.units import units_geojson
from geo_service.storage import repo
from geo_service.web import security
from geo_service.web.context import actor, db_session, index, service, write_transaction
from geo_service.web.i18n import error_texts, page_lang
from geo_service.web.uploads import read_upload

_SCRIPT_OPEN = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)([^>]*)>", re.IGNORECASE)


# ------------------------------------------------------------------ JSON bodies and language (API)


#: Deepest nesting of arrays/objects a JSON body may have (the richest body, a GeoJSON polygon in a
#: feature collection, needs 6).
MAX_JSON_DEPTH = 32


def _refuse_constant(name: str) -> Any:
    raise BadRequest(f"{name} is not a JSON number: send finite numbers only", code="JSON_INVALID",
                     errors=[{"pointer": "/", "detail": f"{name} is not allowed in JSON"}])


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """True when arrays/objects in ``value`` nest deeper than ``limit`` (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def parse_json_strict(data: bytes) -> Any:
    """Parse a request body as strict JSON; every failure is a 400 problem, never a 500."""
    too_deep = BadRequest(f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels", code="JSON_TOO_DEEP",
                          errors=[{"pointer": "/", "detail": f"at most {MAX_JSON_DEPTH} nested arrays/objects"}])
    try:
        body = json.loads(data, parse_constant=_refuse_constant)
    except RecursionError:  # the decoder recurses once per level: thousands of '[' end here
        raise too_deep from None
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the body is not valid JSON", code="JSON_INVALID") from None
    if json_depth_exceeds(body, MAX_JSON_DEPTH):
        raise too_deep
    return body


def request_lang() -> str:
    """'id' (default) or 'en', from ?lang= or Accept-Language."""
    return lang_of(request)


def lang_of(req: Request) -> str:
    """The answer language of ``req``: ``?lang=`` (id/en), else Accept-Language, else 'id' (also for
    the fast lane, which builds a plain ``Request`` only when the query string or the header is there)."""
    lang = req.args.get("lang") if req.query_string else None
    if lang in ("id", "en"):
        return lang
    if "Accept-Language" not in req.headers:
        return "id"  # most API clients send none: skip parsing the header
    best = req.accept_languages.best_match(["id", "en"], default="id")
    return best or "id"


def json_body() -> Any:
    """The parsed JSON body, or a 400/415 problem (read only after the cheap checks: the role rule
    and the size limit ran in ``before_request``, the content type is checked here first).

    Strict JSON: ``NaN``/``Infinity`` are refused (they are not JSON, PostgreSQL cannot store them
    and an answer echoing them would not be JSON either), and so is nesting deeper than
    :data:`MAX_JSON_DEPTH` (a deep body used to end in a 500).
    """
    if not request.is_json:
        raise UnsupportedMediaType("send the body as application/json", code="JSON_REQUIRED")
    return parse_json_strict(request.get_data(cache=True))


def typed_body(query_type: type[Q]) -> Q:
    """The JSON body decoded straight into a typed query of ``services.answers`` (one pass), or a
    400/415 problem.

    A body with more brackets than :data:`MAX_JSON_DEPTH` first goes through the strict generic
    parser, which refuses deep nesting (typed decoding skips unknown keys whatever they hold).
    """
    if not request.is_json:
        raise UnsupportedMediaType("send the body as application/json", code="JSON_REQUIRED")
    return decode_typed(request.get_data(cache=True), query_type)


def decode_typed(data: bytes, query_type: type[Q]) -> Q:
    """JSON bytes decoded into a typed query (see :func:`typed_body`; the fast lane calls this too)."""
    if data.count(b"[") + data.count(b"{") > MAX_JSON_DEPTH:
        parse_json_strict(data)
    return decode_query(data, query_type)


def json_answer(answer: object) -> Response:
    """A typed answer (or a list of them) encoded straight into the response bytes."""
    return Response(to_json(answer), mimetype="application/json")


# ------------------------------------------------------------------ pages


def public_base_url() -> str:
    """Where phones reach the service: ``GEO_SERVICE_PUBLIC_URL``, else the address of this request."""
    return service().settings.public_url or request.host_url.rstrip("/")


def page_setup() -> None:
    """``before_request`` of every page blueprint: the CSP nonce, the page language and the CSRF check."""
    g.csp_nonce = secrets.token_urlsafe(16)
    g.lang = page_lang()
    if request.method == "POST":
        security.check_csrf()


def error_page(status: int, title: str, detail: str) -> Response:
    """An HTML error page (escaped by Jinja)."""
    if "lang" not in g:
        g.lang = page_lang()
    title, detail = error_texts(status, title, detail)
    resp = make_response(render_template("error.html", status=status, title=title, detail=detail), status)
    return resp


def with_nonce(html: str) -> str:
    """Give every inline <script> of a rendered map the response's CSP nonce."""
    nonce = g.csp_nonce
    return _SCRIPT_OPEN.sub(lambda m: f'<script nonce="{nonce}"{m.group(1)}>', html)


def map_frame(html: str) -> str:
    """A map document ready for an iframe ``srcdoc`` (Jinja escapes it for the attribute)."""
    return with_nonce(html)


def tile_kwargs() -> dict[str, Any]:
    """The map renderers' tile and asset settings for this page."""
    settings = service().settings
    return {"tile_url": settings.tile_url, "assets_url": "/maps/", "lang": g.lang}


def unit_features(answer: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """GeoJSON of the answer's unit and, on a border, of the neighbours it touches (None when absent)."""
    idx = index()
    juris = answer.get("jurisdiction") or {}
    leaf = juris.get("polsek") or juris.get("polres") or juris.get("polda")
    unit_fc = None
    if leaf:
        try:
            unit_fc = units_geojson([idx.unit(leaf["code"])], simplify=0.0003)
        except KeyError:
            unit_fc = None
    neighbours = None
    if answer.get("match") == "border":
        codes = [(c.get("polsek") or c.get("polres") or {}).get("code") for c in answer.get("candidates", [])]
        units = []
        for code in codes:
            if code and (not leaf or code != leaf["code"]):
                try:
                    units.append(idx.unit(code))
                except KeyError:
                    continue
        neighbours = units_geojson(units, simplify=0.0003) if units else None
    return unit_fc, neighbours


def with_set_in_force(answer: dict[str, Any], set_id: int | None = None) -> dict[str, Any]:
    """The answer with ``set_in_force`` ``{id, since}``: its boundary set (``set_id``, else the one
    it names) and the first day that set answers (``effective_from`` as a WIB calendar day, as the
    structure file counts days). Unchanged when the set cannot be read (the database is away)."""
    set_id = set_id if set_id is not None else answer.get("boundary_set")
    if set_id is None:
        return answer
    try:
        bset = repo.get_boundary_set(db_session(), int(set_id))
    except Exception:  # noqa: BLE001 - a page still opens without the date (officer links while degraded)
        return answer
    moment = bset.effective_from or bset.published_at
    since = moment.astimezone(WIB).date().isoformat() if moment is not None else None
    return {**answer, "set_in_force": {"id": int(set_id), "since": since}}


# ------------------------------------------------------------------ admin forms and sets


def form_text(name: str) -> str | None:
    """A form field, stripped and cut to 200 characters (None when empty)."""
    return request.form.get(name, "").strip()[:200] or None


def upload_boundaries() -> int:
    """Read the uploaded boundary file (and mapping CSV) with the form's fields as a checked draft set; its id."""
    data, filename = read_upload("file")  # type: ignore[misc]
    mapping = read_upload("mapping", required=False)
    with write_transaction() as session:
        bset = boundary_service.import_boundaries(
            session, data=data, filename=filename, level=form_text("level"), actor=actor(),
            code_field=form_text("code_field"), name_field=form_text("name_field"),
            parent_field=form_text("parent_field"), source_crs=form_text("crs"),
            mapping_csv=mapping[0] if mapping else None, name=form_text("name"), request_id=g.request_id,
        )
        return int(bset.id)


def upload_stations() -> int:
    """Read the uploaded station file (CSV or GeoJSON) as a checked draft station set; its id."""
    data, filename = read_upload("file")  # type: ignore[misc]
    with write_transaction() as session:
        sset = boundary_service.import_stations(session, data=data, filename=filename, actor=actor(),
                                                name=form_text("name"), request_id=g.request_id)
        return int(sset.id)


def publish_set(kind: SetKind, set_id: int) -> int:
    """Publish a boundary or station set and reload this process's index at once; returns the generation."""
    with write_transaction() as session:
        generation = kind.publish(session, set_id, actor=actor(), request_id=g.request_id)
    service().holder.refresh()
    return generation
