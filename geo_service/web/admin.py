"""Admin API: boundary sets and station sets (upload, report, diff, publish, roll back)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from geo_service.services import boundaries as boundary_service
from geo_service.services.api_types import Generation
from geo_service.services.boundary_types import (
    BoundarySet,
    BoundarySetDiff,
    BoundarySets,
    BoundaryUpload,
    StationSet,
    StationSets,
    StationUpload,
)
from geo_service.services.sets import BOUNDARY_SETS, STATION_SETS, SetKind
from geo_service.web.auth import allow
from geo_service.web.common import publish_set, upload_boundaries, upload_stations
from geo_service.web.context import db_session
from geo_service.web.openapi import answers, body, doc, problems

bp = Blueprint("admin_api", __name__, url_prefix="/api/v1")


@bp.post("/boundary-sets")
@allow()
@doc("Upload a boundary file (and optional mapping CSV) as a checked draft set", tags=("admin",))
@body(BoundaryUpload, content_types=("multipart/form-data",))
@answers(201, BoundarySet)
@problems(415, 422)
def create_boundary_set() -> tuple[Response, int]:
    return jsonify(BOUNDARY_SETS.detail(db_session(), upload_boundaries())), 201


def _publish(kind: SetKind, set_id: int) -> Response:
    return jsonify({"published": set_id, "generation": publish_set(kind, set_id)})


@bp.get("/boundary-sets")
@allow()
@doc("Every boundary set, newest first", tags=("admin",))
@answers(200, BoundarySets)
def list_boundary_sets() -> Response:
    return jsonify(BOUNDARY_SETS.listing(db_session()))


@bp.get("/boundary-sets/<int:set_id>")
@allow()
@doc("One boundary set with its check report", tags=("admin",))
@answers(200, BoundarySet)
@problems(404)
def get_boundary_set(set_id: int) -> Response:
    return jsonify(BOUNDARY_SETS.detail(db_session(), set_id))


@bp.get("/boundary-sets/<int:set_id>/diff")
@allow()
@doc("Units added, removed and changed against the published set (or ?against=<id>)",
     params=[{"name": "against", "in": "query", "schema": {"type": "integer"}}], tags=("admin",))
@answers(200, BoundarySetDiff)
@problems(404)
def diff_boundary_set(set_id: int) -> Response:
    against = request.args.get("against", type=int)
    return jsonify(boundary_service.diff_against_published(db_session(), set_id, against))


@bp.post("/boundary-sets/<int:set_id>/publish")
@allow()
@doc("Publish a set (409 when its report has errors); publishing an older set is the rollback",
     tags=("admin",))
@answers(200, Generation)
@problems(404, 409)
def publish_boundary_set(set_id: int) -> Response:
    return _publish(BOUNDARY_SETS, set_id)


@bp.post("/station-sets")
@allow()
@doc("Upload stations (CSV or GeoJSON) as a checked draft station set", tags=("admin",))
@body(StationUpload, content_types=("multipart/form-data",))
@answers(201, StationSet)
@problems(415, 422)
def create_station_set() -> tuple[Response, int]:
    return jsonify(STATION_SETS.detail(db_session(), upload_stations())), 201


@bp.get("/station-sets")
@allow()
@doc("Every station set, newest first", tags=("admin",))
@answers(200, StationSets)
def list_station_sets() -> Response:
    return jsonify(STATION_SETS.listing(db_session()))


@bp.get("/station-sets/<int:set_id>")
@allow()
@doc("One station set with its report and stations", tags=("admin",))
@answers(200, StationSet)
@problems(404)
def get_station_set(set_id: int) -> Response:
    return jsonify(STATION_SETS.detail(db_session(), set_id))


@bp.post("/station-sets/<int:set_id>/publish")
@allow()
@doc("Publish a station set (409 when its report has errors); re-publishing an older one is the rollback",
     tags=("admin",))
@answers(200, Generation)
@problems(404, 409)
def publish_station_set(set_id: int) -> Response:
    return _publish(STATION_SETS, set_id)
