"""Admin API: boundary sets and station sets (upload, report, diff, publish, roll back)."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request

from geo_service.services import boundaries as boundary_service
from geo_service.services.sets import BOUNDARY_SETS, STATION_SETS, SetKind
from geo_service.web.auth import allow
from geo_service.web.context import actor, db_session, service, write_transaction
from geo_service.web.openapi import doc
from geo_service.web.uploads import read_upload

bp = Blueprint("admin_api", __name__, url_prefix="/api/v1")

UPLOAD_BODY = {
    "type": "object",
    "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "GeoJSON, zipped Shapefile (with .prj), GeoPackage, KML or KMZ"},
        "level": {"type": "string", "enum": ["polda", "polres", "polsek"]},
        "code_field": {"type": "string"}, "name_field": {"type": "string"}, "parent_field": {"type": "string"},
        "crs": {"type": "string", "description": "source CRS when the file has none, e.g. EPSG:32750"},
        "mapping": {"type": "string", "format": "binary",
                    "description": "CSV unit_code,unit_name,level,parent_code,area_code"},
        "name": {"type": "string"},
    },
    "required": ["file"],
}
STATION_BODY = {"type": "object", "properties": {"file": {"type": "string", "format": "binary"},
                                                 "name": {"type": "string"}}, "required": ["file"]}


def _form(name: str) -> str | None:
    value = request.form.get(name, "").strip()
    return value[:200] or None


@bp.post("/boundary-sets")
@allow()
@doc("Upload a boundary file (and optional mapping CSV) as a checked draft set", body=UPLOAD_BODY,
     content_types=("multipart/form-data",), responses={201: {"type": "object"}}, tags=("admin",))
def create_boundary_set() -> tuple[Response, int]:
    file_data, filename = read_upload("file")  # type: ignore[misc]
    mapping = read_upload("mapping", required=False)
    with write_transaction() as session:
        bset = boundary_service.import_boundaries(
            session, data=file_data, filename=filename, level=_form("level"), actor=actor(),
            code_field=_form("code_field"), name_field=_form("name_field"), parent_field=_form("parent_field"),
            source_crs=_form("crs"), mapping_csv=mapping[0] if mapping else None, name=_form("name"),
            request_id=g.request_id,
        )
        body = BOUNDARY_SETS.detail(session, bset.id)
    return jsonify(body), 201


def _publish(kind: SetKind, set_id: int) -> Response:
    with write_transaction() as session:
        generation = kind.publish(session, set_id, actor=actor(), request_id=g.request_id)
    service().holder.refresh()
    return jsonify({"published": set_id, "generation": generation})


@bp.get("/boundary-sets")
@allow()
@doc("Every boundary set, newest first", tags=("admin",))
def list_boundary_sets() -> Response:
    return jsonify(BOUNDARY_SETS.listing(db_session()))


@bp.get("/boundary-sets/<int:set_id>")
@allow()
@doc("One boundary set with its check report", tags=("admin",))
def get_boundary_set(set_id: int) -> Response:
    return jsonify(BOUNDARY_SETS.detail(db_session(), set_id))


@bp.get("/boundary-sets/<int:set_id>/diff")
@allow()
@doc("Units added, removed and changed against the published set (or ?against=<id>)",
     params=[{"name": "against", "in": "query", "schema": {"type": "integer"}}], tags=("admin",))
def diff_boundary_set(set_id: int) -> Response:
    against = request.args.get("against", type=int)
    return jsonify(boundary_service.diff_against_published(db_session(), set_id, against))


@bp.post("/boundary-sets/<int:set_id>/publish")
@allow()
@doc("Publish a set (409 when its report has errors); publishing an older set is the rollback",
     tags=("admin",))
def publish_boundary_set(set_id: int) -> Response:
    return _publish(BOUNDARY_SETS, set_id)


@bp.post("/station-sets")
@allow()
@doc("Upload stations (CSV or GeoJSON) as a checked draft station set", body=STATION_BODY,
     content_types=("multipart/form-data",), responses={201: {"type": "object"}}, tags=("admin",))
def create_station_set() -> tuple[Response, int]:
    file_data, filename = read_upload("file")  # type: ignore[misc]
    with write_transaction() as session:
        sset = boundary_service.import_stations(session, data=file_data, filename=filename, actor=actor(),
                                                name=_form("name"), request_id=g.request_id)
        set_id = sset.id
    return jsonify(STATION_SETS.detail(db_session(), set_id)), 201


@bp.get("/station-sets")
@allow()
@doc("Every station set, newest first", tags=("admin",))
def list_station_sets() -> Response:
    return jsonify(STATION_SETS.listing(db_session()))


@bp.get("/station-sets/<int:set_id>")
@allow()
@doc("One station set with its report and stations", tags=("admin",))
def get_station_set(set_id: int) -> Response:
    return jsonify(STATION_SETS.detail(db_session(), set_id))


@bp.post("/station-sets/<int:set_id>/publish")
@allow()
@doc("Publish a station set (409 when its report has errors); re-publishing an older one is the rollback",
     tags=("admin",))
def publish_station_set(set_id: int) -> Response:
    return _publish(STATION_SETS, set_id)
