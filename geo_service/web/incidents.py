"""Incident log API (issue 6): create, read, update with optimistic locking, list, export, weekly recap.

Thin views over :mod:`geo_service.services.incidents` and :mod:`geo_service.services.recap`.
Unit scope: every non-admin principal with a ``unit_code`` sees only that unit and the units
below it (403 ``OUT_OF_SCOPE`` when asking for another unit); without a unit, everything.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, g, jsonify, request

from geo_service.errors import BadRequest, InvalidInput
from geo_service.services import incidents as svc
from geo_service.services import recap as recap_service
from geo_service.services.incident_types import (
    Incident,
    IncidentCreate,
    IncidentPage,
    IncidentPatch,
    WeeklyRecap,
)
from geo_service.storage.types import utcnow
from geo_service.web.auth import Principal, allow, require_principal
from geo_service.web.common import json_body, request_lang
from geo_service.web.context import actor, db_session, index, places, service
from geo_service.web.openapi import CSV_TEXT, answers, body, doc, problems

bp = Blueprint("incidents", __name__)
READERS = ("dispatcher", "supervisor", "officer")

LIST_PARAMS = [
    {"name": "unit", "in": "query", "schema": {"type": "string"}, "description": "this unit and every unit below"},
    {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(svc.STATUSES)}},
    {"name": "category", "in": "query", "schema": {"type": "string", "enum": list(svc.CATEGORIES)}},
    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date-time"},
     "description": "reported_at >= from (ISO 8601 with offset)"},
    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date-time"},
     "description": "reported_at < to (ISO 8601 with offset)"},
    {"name": "overdue", "in": "query", "schema": {"type": "boolean"}},
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": svc.MAX_PER_PAGE,
                                                   "default": 50}},
    {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv"]},
     "description": "csv: every matching incident (paging ignored)"},
]
RECAP_PARAMS = [
    {"name": "unit", "in": "query", "schema": {"type": "string"}, "description": "default: your unit"},
    {"name": "week", "in": "query", "schema": {"type": "string", "pattern": r"^\d{4}-W\d{2}$"},
     "description": "ISO week in the unit's local time; default: the current week"},
    {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv"]}},
]


def _scope(principal: Principal) -> str | None:
    return None if principal.role == "admin" else principal.unit_code


def _settings_now() -> tuple[int, datetime]:
    return service().settings.overdue_minutes, utcnow()


def _choice(name: str, allowed: tuple[str, ...]) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw not in allowed:
        raise BadRequest(f"{name} must be one of {', '.join(allowed)}", code="INVALID_PARAMETER",
                         errors=[{"pointer": f"?{name}", "detail": f"unknown value {raw!r}"}])
    return raw


def _int_param(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer", code="INVALID_PARAMETER",
                         errors=[{"pointer": f"?{name}", "detail": "not an integer"}]) from None
    if not lo <= value <= hi:
        raise BadRequest(f"{name} must be between {lo} and {hi}", code="INVALID_PARAMETER",
                         errors=[{"pointer": f"?{name}", "detail": "out of range"}])
    return value


def _datetime_param(name: str) -> datetime | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    # An unencoded "+08:00" in a query string arrives as " 08:00".
    if "T" in raw and " " in raw:
        raw = raw.replace(" ", "+")
    try:
        return svc.parse_aware_datetime(raw, f"?{name}")
    except InvalidInput as exc:  # a bad query parameter is a 400
        raise BadRequest(exc.detail, code=exc.code, errors=exc.errors) from None


def _bool_param(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    value = raw.strip().lower()
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no"):
        return False
    raise BadRequest(f"{name} must be true or false", code="INVALID_PARAMETER",
                     errors=[{"pointer": f"?{name}", "detail": "not a boolean"}])


def _format() -> str:
    return _choice("format", ("json", "csv")) or "json"


def _csv_response(text: str, filename: str, total: int | None = None) -> Response:
    resp = Response(text, mimetype="text/csv")
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    if total is not None:
        resp.headers["X-Total-Count"] = str(total)
    return resp


@bp.post("/api/v1/incidents")
@allow("dispatcher")
@doc("Record a call: validate and locate its position, assign the responsible unit (status belum_ditangani). "
     "An unusable position still records the call, without a unit.", tags=("incidents",))
@body(IncidentCreate)
@answers(201, Incident)
@problems(422)
def create() -> tuple[Response, int]:
    session = db_session()
    overdue_minutes, now = _settings_now()
    incident = svc.create_incident(session, json_body(), index(), actor=actor(), lang=request_lang(),
                                   request_id=g.get("request_id"), now=now, places=places(),
                                   index_at=service().holder.index_at, earliest=service().holder.earliest_from())
    session.commit()
    body = svc.incident_to_dict(incident, index(), now=now, overdue_minutes=overdue_minutes)
    resp = jsonify(body)
    resp.headers["Location"] = f"/api/v1/incidents/{incident.id}"
    return resp, 201


@bp.get("/api/v1/incidents")
@allow(*READERS)
@doc("List incidents of a unit and the units below it (filters, paging; format=csv exports every match)",
     params=LIST_PARAMS, tags=("incidents",))
@answers(200, IncidentPage)
@answers(200, CSV_TEXT, content_type="text/csv")
@problems(400)
def list_() -> Response:
    principal = require_principal()
    overdue_minutes, now = _settings_now()
    query = svc.IncidentQuery(
        unit=svc.effective_unit(request.args.get("unit") or None, _scope(principal)),
        status=_choice("status", svc.STATUSES),
        category=_choice("category", svc.CATEGORIES),
        date_from=_datetime_param("from"),
        date_to=_datetime_param("to"),
        overdue=_bool_param("overdue"),
    )
    fmt = _format()
    page = _int_param("page", 1, 1, 10_000_000)
    per_page = _int_param("per_page", 50, 1, svc.MAX_PER_PAGE)
    session = db_session()
    if fmt == "csv":
        rows = list(svc.iter_incidents(session, query, now=now, overdue_minutes=overdue_minutes))
        text = svc.incidents_csv(rows, index(), now=now, overdue_minutes=overdue_minutes)
        return _csv_response(text, "incidents.csv", len(rows))
    items, total = svc.list_incidents(session, query, now=now, overdue_minutes=overdue_minutes,
                                      page=page, per_page=per_page)
    idx = index()
    return jsonify({
        "items": [svc.incident_to_dict(i, idx, now=now, overdue_minutes=overdue_minutes, with_location=False)
                  for i in items],
        "total": total, "page": page, "per_page": per_page,
        "overdue_minutes": overdue_minutes,
    })


@bp.get("/api/v1/incidents/<int:incident_id>")
@allow(*READERS)
@doc("One incident with its location answer and its event log", tags=("incidents",))
@answers(200, Incident)
@problems(404)
def get(incident_id: int) -> Response:
    principal = require_principal()
    overdue_minutes, now = _settings_now()
    session = db_session()
    incident = svc.get_incident(session, incident_id, scope=_scope(principal))
    events = svc.list_events(session, incident_id)
    return jsonify(svc.incident_to_dict(incident, index(), now=now, overdue_minutes=overdue_minutes, events=events))


@bp.patch("/api/v1/incidents/<int:incident_id>")
@allow("dispatcher")
@doc("Change status, reassign (needs a note) or add a note; send the version you read "
     "(409 STALE_VERSION when someone changed it first, 409 INVALID_TRANSITION for a forbidden change, "
     "403 OUT_OF_SCOPE for another unit's incident; a unit-scoped dispatcher may only claim an unassigned "
     "call for its own unit)",
     tags=("incidents",))
@body(IncidentPatch)
@answers(200, Incident)
@problems(404, 409, 422)
def patch(incident_id: int) -> Response:
    principal = require_principal()
    overdue_minutes, now = _settings_now()
    session = db_session()
    incident = svc.update_incident(session, incident_id, json_body(), index(), actor=actor(),
                                   scope=_scope(principal), request_id=g.get("request_id"), now=now)
    session.commit()
    events = svc.list_events(session, incident_id)
    return jsonify(svc.incident_to_dict(incident, index(), now=now, overdue_minutes=overdue_minutes, events=events))


@bp.get("/api/v1/reports/weekly")
@allow("supervisor")
@doc("Weekly recap of a unit in its local time zone (Monday 00:00 to Monday 00:00): counts by status and "
     "category, unhandled calls, median minutes to first action and to done, units below ranked",
     params=RECAP_PARAMS, tags=("incidents",))
@answers(200, WeeklyRecap)
@answers(200, CSV_TEXT, content_type="text/csv")
@problems(400, 404)
def weekly() -> Response:
    principal = require_principal()
    scope = _scope(principal)
    unit_code = svc.effective_unit(request.args.get("unit") or None, scope)
    if unit_code is None:
        roots = sorted(c for c, u in index().units.items() if u.parent_code is None)
        if len(roots) != 1:
            raise BadRequest("give ?unit=<code>", code="UNIT_REQUIRED",
                             errors=[{"pointer": "?unit", "detail": "required"}])
        unit_code = roots[0]
    fmt = _format()
    overdue_minutes, now = _settings_now()
    recap = recap_service.weekly_recap(db_session(), index(), index_at=service().holder.index_at, unit_code=unit_code,
                                       week=request.args.get("week") or None, now=now,
                                       overdue_minutes=overdue_minutes)
    if fmt == "csv":
        return _csv_response(recap_service.recap_csv(recap), f"recap-{unit_code}-{recap['week']}.csv")
    return jsonify(recap)
