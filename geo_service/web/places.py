"""``GET /api/v1/places``: place names (desa/kelurahan, kecamatan, kabupaten/kota, provinsi) as typed."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request

from geo_service.errors import BadRequest
from geo_service.services.place_types import PlaceMatch
from geo_service.services.places import MAX_LIMIT
from geo_service.web.auth import allow
from geo_service.web.context import index, places
from geo_service.web.openapi import answers, doc, problems

bp = Blueprint("places", __name__)
MAX_QUERY_CHARS = 200

@bp.get("/api/v1/places")
@allow("dispatcher", "supervisor")
@doc("Place names as people type them (Desa/Kel./Kec./Kab./Kota prefixes, missing spaces, misspellings), "
     "ranked; places inside hint_unit (default: the caller's unit) first",
     params=[{"name": "q", "in": "query", "required": True,
              "schema": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS}},
             {"name": "hint_unit", "in": "query", "schema": {"type": "string", "maxLength": 40}},
             {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}}],
     tags=("places",))
@answers(200, list[PlaceMatch])
@problems(400)
def search_places() -> Response:
    q = request.args.get("q", "")
    if not q.strip() or len(q) > MAX_QUERY_CHARS:
        raise BadRequest(f"q must be 1..{MAX_QUERY_CHARS} characters", code="INVALID_QUERY",
                         errors=[{"pointer": "?q", "detail": "missing, blank or too long"}])
    hint = request.args.get("hint_unit") or (g.principal.unit_code if g.get("principal") else None)
    if hint is not None and len(hint) > 40:
        raise BadRequest("hint_unit must be a unit code", errors=[{"pointer": "?hint_unit", "detail": "too long"}])
    raw_limit = request.args.get("limit", "10")
    try:
        limit = int(raw_limit)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be an integer in 1..{MAX_LIMIT}", code="INVALID_LIMIT",
                         errors=[{"pointer": "?limit", "detail": "not an integer in range"}])
    matches = places().search(q, index=index(), hint_unit=hint, limit=limit)
    return jsonify([m.to_dict() for m in matches])
