"""The JSON API under /api/v1 and /health: thin views over framework-neutral services."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context
from sqlalchemy.exc import SQLAlchemyError

from geo_service.errors import BadRequest, NotFound
from geo_service.services import batch as batch_service
from geo_service.services import units as units_service
from geo_service.services.answers import LocateAnswer, LocateQuery, ValidateQuery, ValidationAnswer
from geo_service.services.api_types import Health
from geo_service.services.locate import locate_location, parse_at, validate_location, validation_answer
from geo_service.services.unit_types import UnitCollection, UnitFeature
from geo_service.storage import repo
from geo_service.web.auth import allow, public, require_principal
from geo_service.web.common import json_answer, json_body, request_lang, typed_body
from geo_service.web.context import db_session, index, service
from geo_service.web.fast_lane import FastRoute
from geo_service.web.openapi import CSV_TEXT, answer_type, answers, body, build_openapi, doc, problems

bp = Blueprint("api", __name__)
ALL_ROLES = ("dispatcher", "supervisor", "officer")
MAX_JSON_BATCH = 100_000
# The locate/validate bodies: services.answers' types once they exist (issue 13), else hand-written.
VALIDATE_QUERY = answer_type("ValidateQuery", {"$ref": "#/components/schemas/LocationBody"})
LOCATE_QUERY = answer_type("LocateQuery", {"$ref": "#/components/schemas/LocationBody"})
VALIDATION_ANSWER = answer_type("ValidationAnswer", {"$ref": "#/components/schemas/Validation"})
LOCATE_ANSWER = answer_type("LocateAnswer", {"$ref": "#/components/schemas/LocateAnswer"})
COMPACT_LOCATE = answer_type("CompactLocate", {"$ref": "#/components/schemas/CompactLocate"})
GEOJSON_POINTS = {"type": "object", "description": "a GeoJSON FeatureCollection of points; the answer adds "
                  "properties.geo_service (a compact locate record) to each feature",
                  "properties": {"type": {"const": "FeatureCollection"}, "features": {"type": "array"}},
                  "required": ["type", "features"]}


@bp.get("/health")
@public
@doc("Health of this instance: database, published boundary set, unit count; status ok, degraded "
     "(database unreachable) or read_only (the store takes no writes)", tags=("meta",))
@answers(200, Health)
def health() -> Response:
    svc = service()
    holder = svc.holder
    holder.refresh()  # health always probes the database (and reloads after a publish)
    read_only = None
    if not holder.degraded:
        try:
            read_only = svc.storage.probe_writable()  # a store that reads but no longer writes (issue 12)
        except SQLAlchemyError:
            read_only = "the database did not answer the write probe"
    status = "degraded" if holder.degraded else "read_only" if read_only else "ok"
    idx = holder.loaded  # the loaded index, even when the database is away
    body: dict[str, Any] = {
        "status": status,
        "database": svc.settings.backend,
        "writable": not holder.degraded and not read_only,
        "boundary_set": idx.set_id if idx else None,
        "units": len(idx.units) if idx else 0,
        "generation": holder.generation,
    }
    if holder.degraded:
        body["detail"] = "database unreachable: answering validate/locate from the loaded index; writes fail with 503"
    elif read_only:
        body["detail"] = (f"storage read-only: {read_only}; answering validate/locate and reads, "
                          "writes fail with 503 STORAGE_READ_ONLY")
    return jsonify(body)


@bp.get("/api/v1/openapi.json")
@public
@doc("This OpenAPI document", tags=("meta",))
@answers(200, {"type": "object", "description": "OpenAPI 3.1", "required": ["openapi", "paths", "components"]})
def openapi() -> Response:
    return jsonify(build_openapi(current_app))


@bp.post("/api/v1/coordinates/validate")
@allow("dispatcher")
@doc("Parse, validate and correct one coordinate", tags=("coordinates",))
@body(VALIDATE_QUERY)
@answers(200, VALIDATION_ANSWER)
def validate() -> Response:
    return json_answer(validate_answer(typed_body(ValidateQuery), request_lang()))


def validate_answer(query: ValidateQuery, lang: str) -> ValidationAnswer:
    """The answer of ``POST /api/v1/coordinates/validate`` (the view's and the fast lane's)."""
    svc = service()
    result = validate_location(query, svc.holder.current(), svc.places, svc.link_expander, index_at=svc.holder.index_at)
    return validation_answer(result, lang)


#: The ``?at=`` query parameter of the batch endpoints and ``GET /api/v1/units``.
AT_QUERY = {"name": "at", "in": "query", "schema": {"type": "string", "format": "date-time"},
            "description": "answer with the set in force at this moment (ISO 8601 with offset; default now); "
                           "items must not carry their own 'at' (400 BATCH_AT_PER_ITEM)"}


def index_at_query() -> Any:
    """The index of the set in force at the request's ``?at=`` (the current one without it)."""
    at = request.args.get("at")
    return service().holder.index_at(parse_at({"at": at})) if at else index()


@bp.post("/api/v1/coordinates/validate/batch")
@allow("dispatcher")
@doc("Validate a list of coordinates (JSON list of location bodies, or CSV with text or lat,lon columns)",
     tags=("coordinates",), params=[AT_QUERY])
@body({"type": "array", "items": VALIDATE_QUERY, "maxItems": MAX_JSON_BATCH})
@body(CSV_TEXT, content_types=("text/csv",))
@answers(200, {"type": "array", "items": {"anyOf": [VALIDATION_ANSWER, COMPACT_LOCATE]},
              "description": "one validation answer per item; a malformed item gets a compact record with 'error'"})
@answers(200, CSV_TEXT, content_type="text/csv")
def validate_batch() -> Response:
    lang = request_lang()
    if request.mimetype == "text/csv":
        out = batch_service.validate_csv(request.get_data(), index_at_query(), lang=lang)
        return Response(out, mimetype="text/csv")
    body = json_body()
    if not isinstance(body, list):
        raise BadRequest("the body must be a JSON list of location objects", code="JSON_LIST_REQUIRED")
    if len(body) > MAX_JSON_BATCH:
        raise BadRequest(f"at most {MAX_JSON_BATCH} items per batch", code="BATCH_TOO_LARGE")
    batch_service.reject_item_at(body)
    return json_answer(batch_service.validate_items(body, index_at_query(), lang=lang))


@bp.post("/api/v1/locate")
@allow("dispatcher")
@doc("Validate a coordinate and give the responsible Polda/Polres/Polsek and nearest stations",
     tags=("locate",))
@body(LOCATE_QUERY)
@answers(200, LOCATE_ANSWER)
def locate() -> Response:
    return json_answer(locate_answer(typed_body(LocateQuery), request_lang()))


def locate_answer(query: LocateQuery, lang: str) -> LocateAnswer:
    """The answer of ``POST /api/v1/locate`` (the view's and the fast lane's)."""
    svc = service()
    return locate_location(query, svc.holder.current(), lang=lang, places=svc.places, expand_link=svc.link_expander,
                           index_at=svc.holder.index_at, earliest=svc.holder.earliest_from())


#: The endpoints ``web.fast_lane`` may answer itself: path -> (endpoint, body type, answer).
FAST_ROUTES = {
    "/api/v1/locate": FastRoute("api.locate", LocateQuery, locate_answer),
    "/api/v1/coordinates/validate": FastRoute("api.validate", ValidateQuery, validate_answer),
}


@bp.post("/api/v1/locate/batch")
@allow("dispatcher")
@doc("Locate up to 1,000,000 points: JSON list, CSV (lat,lon or text) or GeoJSON; answered in the same "
     "format and order, streamed", tags=("locate",), params=[AT_QUERY])
@body({"type": "array", "items": LOCATE_QUERY})
@body(CSV_TEXT, content_types=("text/csv",))
@body(GEOJSON_POINTS, content_types=("application/geo+json",))
@answers(200, {"type": "array", "items": COMPACT_LOCATE})
@answers(200, CSV_TEXT, content_type="text/csv")
@answers(200, GEOJSON_POINTS, content_type="application/geo+json")
def locate_batch() -> Response:
    idx = index_at_query()
    lang = request_lang()
    mimetype = request.mimetype
    batch_service.check_batch_mimetype(mimetype)  # before reading the body
    data = request.get_data()
    fmt, chunks = batch_service.locate_stream(data, mimetype, idx, lang=lang)
    return Response(stream_with_context(chunks), mimetype=fmt)


@bp.get("/api/v1/units")
@allow(*ALL_ROLES)
@doc("Units of the published set as GeoJSON (level=, simplify= degrees for display, set= a set id; "
     "drafts only for admins)",
     params=[{"name": "level", "in": "query", "schema": {"type": "string", "enum": ["polda", "polres", "polsek"]}},
             {"name": "simplify", "in": "query", "schema": {"type": "number", "minimum": 0, "maximum": 0.1}},
             {"name": "set", "in": "query", "schema": {"type": "integer"}},
             {"name": "at", "in": "query", "schema": {"type": "string", "format": "date-time"},
              "description": "the units of the set in force at this moment (ISO 8601 with offset)"}],
     tags=("units",))
@answers(200, UnitCollection, content_type="application/geo+json")
@problems(400, 404)
def units() -> Response:
    level = request.args.get("level")
    simplify = _float_arg("simplify", 0.0, 0.0, 0.1)
    set_id = request.args.get("set", type=int)
    if level is not None and level not in ("polda", "polres", "polsek"):
        raise BadRequest("level must be polda, polres or polsek", code="INVALID_LEVEL",
                         errors=[{"pointer": "?level", "detail": "unknown level"}])
    if set_id is not None:
        bset = repo.get_boundary_set(db_session(), set_id)
        if bset.published_at is None and require_principal().role != "admin":
            # A draft was never checked by anyone but an admin: other roles see only sets that served.
            raise NotFound(f"boundary set {set_id} does not exist")
        fc = units_service.units_geojson(repo.load_units(db_session(), set_id, level=level), simplify=simplify)
    elif request.args.get("at"):
        fc = units_service.index_units_geojson(index_at_query(), level=level, simplify=simplify)
    else:
        fc = units_service.index_units_geojson(index(), level=level, simplify=simplify)
    resp = jsonify(fc)
    resp.mimetype = "application/geo+json"
    return resp


@bp.get("/api/v1/units/<code>")
@allow(*ALL_ROLES)
@doc("One unit of the published set as a GeoJSON Feature with its chain of parents",
     params=[{"name": "simplify", "in": "query", "schema": {"type": "number", "minimum": 0, "maximum": 0.1}}],
     tags=("units",))
@answers(200, UnitFeature, content_type="application/geo+json")
@problems(400, 404)
def unit(code: str) -> Response:
    idx = index()
    try:
        u = idx.unit(code)
    except KeyError:
        u = None
    if u is None:
        raise NotFound(f"unit {code!r} is not in the published boundary set", code="UNIT_NOT_FOUND")
    feature = units_service.unit_feature(idx, u, simplify=_float_arg("simplify", 0.0, 0.0, 0.1))
    resp = jsonify(feature)
    resp.mimetype = "application/geo+json"
    return resp


def _float_arg(name: str, default: float, lo: float, hi: float) -> float:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a number", errors=[{"pointer": f"?{name}", "detail": "not a number"}]) from None
    if not lo <= value <= hi:
        raise BadRequest(f"{name} must be between {lo} and {hi}", errors=[{"pointer": f"?{name}", "detail": "out of range"}])
    return value
