"""Call Center 110 evaluation (issue 16): call records in, the Anev report out, field milestones.

Thin views over :mod:`geo_service.services.calls` and :mod:`geo_service.services.milestones`.
Reports are for supervisors (and admin), scoped to the caller's unit and the units below it;
``MABES`` (the national root) is above every Polda.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from geo_service.errors import BadRequest, InvalidInput, PayloadTooLarge
from geo_service.services import calls as svc
from geo_service.services import incidents as incident_service
from geo_service.services import milestones as ms
from geo_service.services import officer_links
from geo_service.services.call_types import CallRecord, CallReport, CallsUpload, ImportResult
from geo_service.services.incident_types import Milestone, Timeline
from geo_service.storage.types import utcnow
from geo_service.web.auth import Principal, allow, public, require_principal
from geo_service.web.common import json_body
from geo_service.web.context import actor, db_session, index, service, write_transaction
from geo_service.web.openapi import BINARY, CSV_TEXT, answers, body, doc, problems
from geo_service.web.uploads import read_upload

bp = Blueprint("calls", __name__)
READERS = ("dispatcher", "supervisor", "officer")

REPORT_PARAMS = [
    {"name": "unit", "in": "query", "schema": {"type": "string"}, "description": "default: your unit, else MABES"},
    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"},
     "description": "first local day (inclusive), with to"},
    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "last local day"},
    {"name": "week", "in": "query", "schema": {"type": "string", "pattern": r"^\d{4}-W\d{2}$"}},
    {"name": "month", "in": "query", "schema": {"type": "string", "pattern": r"^\d{4}-\d{2}$"}},
    {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv", "xlsx"]}},
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _scope(principal: Principal) -> str | None:
    return None if principal.role == "admin" else principal.unit_code


def _import_response(result: svc.ImportResult) -> tuple[Response, int]:
    stored = result.created + result.updated
    if result.rows and not stored and result.errors:
        raise InvalidInput(f"no call was stored: {len(result.errors)} problem(s)", code="CALLS_REJECTED",
                           errors=[{"pointer": e.get("pointer") or f"/{e['row']}/{e['column']}",
                                    "detail": e["detail"]} for e in result.errors[:1000]])
    return jsonify(result.to_dict()), 201 if result.created else 200


@bp.post("/api/v1/calls")
@allow("dispatcher")
@doc("Record 110 call(s) from the telephony integration: one call object or a list; idempotent by call_id "
     "(a repeat updates). Bad rows are listed with their pointer and reason, good ones kept; 422 when none is good.",
     tags=("calls",))
@body(CallRecord | list[CallRecord])
@answers(201, ImportResult)
@answers(200, ImportResult)
@problems(422)
def post_calls() -> tuple[Response, int]:
    body = json_body()
    hierarchy = svc.hierarchy_for(index())
    with write_transaction() as session:
        result = svc.import_calls_json(session, body, hierarchy, actor=actor(), request_id=g.get("request_id"),
                                       scope=_scope(require_principal()))
    return _import_response(result)


@bp.post("/api/v1/calls/import")
@allow("dispatcher", "supervisor")
@doc("Import a CSV of 110 calls (multipart field 'file' or a text/csv body; columns in the README): one "
     "transaction, every bad row reported with line, column and reason, re-import updates",
     tags=("calls",))
@body(CallsUpload, content_types=("multipart/form-data",))
@body(CSV_TEXT, content_types=("text/csv",))
@answers(201, ImportResult)
@answers(200, ImportResult)
@problems(415, 422)
def import_calls() -> tuple[Response, int]:
    if request.mimetype == "text/csv":
        limit = service().settings.max_upload_bytes
        data = request.get_data(cache=False)
        if len(data) > limit:
            raise PayloadTooLarge(f"the file is larger than the limit of {limit} bytes")
    else:
        upload = read_upload("file")
        assert upload is not None
        data = upload[0]
    hierarchy = svc.hierarchy_for(index())
    with write_transaction() as session:
        result = svc.import_calls_csv(session, io.BytesIO(data), hierarchy, actor=actor(),
                                      request_id=g.get("request_id"), scope=_scope(require_principal()))
    return _import_response(result)


def _build_report() -> dict[str, Any]:
    principal = require_principal()
    return svc.report_for(db_session(), index(), service().settings, unit=request.args.get("unit"),
                          scope=_scope(principal), args=request.args, now=utcnow())


@bp.get("/api/v1/reports/calls")
@allow("supervisor")
@doc("Call Center 110 evaluation of a unit for whole local days (from/to, week or month): calls offered, "
     "answered, answer rate, answer times, outcomes, overflow; response times from the field; the units below "
     "ranked by volume and by unanswered calls (format=csv|xlsx for exports)",
     params=REPORT_PARAMS, tags=("calls",))
@answers(200, CallReport)
@answers(200, CSV_TEXT, content_type="text/csv")
@answers(200, BINARY, content_type=XLSX)
@problems(400, 404)
def report() -> Response:
    fmt = request.args.get("format") or "json"
    if fmt not in ("json", "csv", "xlsx"):
        raise BadRequest("format must be json, csv or xlsx", code="INVALID_PARAMETER",
                         errors=[{"pointer": "?format", "detail": f"unknown value {fmt!r}"}])
    data = _build_report()
    name = f"anev110-{data['unit']['code']}-{data['from']}-{data['to']}"
    if fmt == "csv":
        resp = Response(svc.report_csv(data), mimetype="text/csv")
    elif fmt == "xlsx":
        resp = Response(svc.report_xlsx(data), mimetype=XLSX)
    else:
        return jsonify(data)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return resp


# ------------------------------------------------------------------ milestones


@bp.get("/api/v1/incidents/<int:incident_id>/milestones")
@allow(*READERS)
@doc("Response timeline of an incident: received, answered, dispatched, acknowledged, en route, on scene, done "
     "(seconds since the call; an arrival more than 500 m from the incident point is flagged far)",
     tags=("incidents",))
@answers(200, Timeline)
@problems(404)
def get_milestones(incident_id: int) -> Response:
    principal = require_principal()
    session = db_session()
    incident = incident_service.get_incident(session, incident_id, scope=_scope(principal))
    return jsonify({"incident_id": incident_id, "milestones": ms.timeline(session, incident)})


@bp.post("/api/v1/incidents/<int:incident_id>/milestones")
@allow("dispatcher", "officer")
@doc("Record a milestone (first of a kind counts; send an idempotency key so a retry does not count twice)",
     tags=("incidents",))
@body(ms.MilestoneCreate)
@answers(201, Milestone)
@answers(200, Milestone)
@problems(404, 422)
def post_milestone(incident_id: int) -> tuple[Response, int]:
    principal = require_principal()
    data = ms.parse_milestone_body(json_body(), ms.RECORDED_KINDS)
    with write_transaction() as session:
        incident_service.get_incident(session, incident_id, scope=_scope(principal))
        row, created = ms.record_milestone(session, incident_id, data, actor=actor(), index=index())
        body = ms.milestone_to_dict(row)
    return jsonify({**body, "created": created}), 201 if created else 200


@bp.post("/p/<token>/milestones")
@public
@doc("An officer's milestone tap from the officer page (public: the signed link is the credential)",
     tags=("incidents",))
@body(ms.MilestoneCreate)
@answers(201, Milestone)
@answers(200, Milestone)
@problems(403, 404, 410, 422, 429)
def officer_milestone(token: str) -> tuple[Response, int]:
    """An officer's tap from the officer page; the signed link is the credential (no login on the phone)."""
    settings = service().settings
    ok, retry = service().rate_limiter.hit(f"officer-ms:{request.remote_addr}", 120, 60)
    if not ok:
        from geo_service.errors import RateLimited

        raise RateLimited(f"too many requests; try again in {retry} s", code="RATE_LIMITED")
    payload = officer_links.read_link(token, secret=settings.secret_key, ttl_s=settings.officer_link_ttl_s,
                                      session=db_session())
    data = ms.parse_milestone_body(json_body(), ms.OFFICER_KINDS)
    with write_transaction() as session:
        incident_id = ms.link_incident_id(session, payload["jti"])
        if incident_id is None:
            raise InvalidInput("this link is for a point, not an incident: nothing to record",
                               code="LINK_WITHOUT_INCIDENT")
        row, created = ms.record_milestone(session, incident_id, data, actor=f"officer-link:{payload['jti']}",
                                           index=index())
        body = ms.milestone_to_dict(row)
    return jsonify({**body, "created": created}), 201 if created else 200
