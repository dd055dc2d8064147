"""Use case "incident log": create a call with its located position, move it through the status
workflow, list and export it, and seed demo data.

Status workflow (``selesai`` and ``dibatalkan`` are final)::

    belum_ditangani -> dalam_proses -> selesai
    belum_ditangani | dalam_proses -> dibatalkan

Every change is one :class:`IncidentEvent` row plus one audit record, in the caller's
transaction. ``first_action_at`` is the time of the first *status change* (the only way out
of ``belum_ditangani``; a cancellation counts as an action); notes and reassignments do not
set it. ``done_at`` is the time the incident became ``selesai``.

Optimistic locking: every update is one conditional ``UPDATE ... WHERE id = :id AND
version = :v``; when no row matched, another dispatcher changed the incident first and the
caller gets 409 ``STALE_VERSION`` (on SQLite and PostGIS alike: the second writer waits for the
first one's lock and then finds the version changed).

Unit scope: a principal's ``unit_code`` (``None`` = everything) covers that unit and every unit
below it; an incident is in scope when its Polda, Polres, Polsek or responsible unit code is
the scope code or starts with ``<scope>.``. A scoped dispatcher changes only incidents in its
scope (and may hand them to any unit); an unassigned call (no usable position) it may only
claim for a unit within its own (:func:`check_update_scope`).
"""

from __future__ import annotations

import csv
import io
import logging
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import shapely
from sqlalchemy.orm import Session

from geo_service.errors import BadRequest, Conflict, Forbidden, InvalidInput, NotFound, UnknownCRS
from geo_service.geo.area import LEVELS
from geo_service.geo.coords import MAX_TEXT_LENGTH
from geo_service.geo.index import JurisdictionIndex
from geo_service.geo.timezones import WITA, zone_for_unit
from geo_service.services.answers import LocateAnswer, to_builtins
from geo_service.services.csv_cells import csv_safe  # noqa: F401  (re-exported: recap, calls)
from geo_service.services.locate import IndexAt, locate_location, parse_at, parse_location_body
from geo_service.storage import incidents as incident_store
from geo_service.storage.incidents import STATUSES, IncidentQuery, unit_filter
from geo_service.storage.models import Incident, IncidentEvent
from geo_service.storage.repo import audit
from geo_service.storage.types import utcnow

LOGGER = logging.getLogger(__name__)

CATEGORIES = ("kecelakaan", "pencurian", "kebakaran", "kdrt", "gangguan_ketertiban", "lainnya")
CHANNELS = ("call_110", "aml", "app")
OPEN, IN_PROGRESS, DONE, CANCELLED = STATUSES
FINAL_STATUSES = frozenset({DONE, CANCELLED})
TRANSITIONS: dict[str, frozenset[str]] = {
    OPEN: frozenset({IN_PROGRESS, CANCELLED}),
    IN_PROGRESS: frozenset({DONE, CANCELLED}),
    DONE: frozenset(),
    CANCELLED: frozenset(),
}
MAX_DESCRIPTION = 5000
MAX_NOTE = 2000
MAX_PER_PAGE = 500
MAX_CSV_ROWS = 200_000
#: The keys of a location body an incident keeps (``raw_location``); anything else a caller sends
#: under ``location`` is neither used nor stored (issue 12: 10 MB of junk was kept).
LOCATION_KEYS = ("text", "lat", "lon", "crs", "uncertainty_m", "hint_unit", "at")
#: ``reported_at`` must lie in [REPORTED_AT_EARLIEST, now + REPORTED_AT_MAX_AHEAD] (issue 12: year
#: 9999 was accepted, and date arithmetic near the ends of the datetime range overflows). The
#: horizon is generous on purpose: exercise and test data are dated ahead (the suite files calls in
#: 2030-2032); a tighter bound (an hour for a clock or zone written wrong) needs that data moved.
REPORTED_AT_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
REPORTED_AT_MAX_AHEAD = timedelta(days=10 * 366)
DEMO_PREFIX = "[DEMO] "
DEMO_ACTOR = "demo-seed"
UNASSIGNED_NOTICE = ("the location could not be used (no point): the incident was recorded without a unit; "
                     "assign one with PATCH unit_code")

CSV_COLUMNS = (
    "id", "status", "version", "category", "channel", "reported_at", "created_at", "created_by",
    "first_action_at", "done_at", "polda_code", "polres_code", "polsek_code", "unit_code", "unit_name",
    "lon", "lat", "location_status", "overdue", "demo", "description",
)


# ------------------------------------------------------------------ parsing


def parse_aware_datetime(value: Any, pointer: str) -> datetime:
    """Read an ISO 8601 datetime that carries a UTC offset; a naive one is refused (422)."""
    if not isinstance(value, str):
        raise BadRequest("a date-time must be an ISO 8601 string",
                         errors=[{"pointer": pointer, "detail": "must be an ISO 8601 string with offset"}])
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{value!r} is not an ISO 8601 date-time", code="INVALID_DATETIME",
                           errors=[{"pointer": pointer, "detail": "not an ISO 8601 date-time"}]) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(
            f"{value!r} has no UTC offset: write it as e.g. 2026-11-28T14:05:00+08:00 (WITA)",
            code="NAIVE_DATETIME",
            errors=[{"pointer": pointer, "detail": "needs a UTC offset such as +08:00 or Z"}],
        )
    return moment


def _check_reported_at(moment: datetime, now: datetime) -> str | None:
    """Why ``moment`` cannot be the time of a call (None when it can)."""
    try:
        if moment < REPORTED_AT_EARLIEST:
            return f"must not be before {REPORTED_AT_EARLIEST.date().isoformat()}"
        if moment > now + REPORTED_AT_MAX_AHEAD:
            return f"must not lie more than {REPORTED_AT_MAX_AHEAD.days // 366} years ahead (check the date)"
    except OverflowError:  # year 1 or 9999 with an offset that leaves the datetime range
        return "outside the range of dates the service accepts"
    return None


def parse_incident_body(body: Any, *, now: datetime | None = None) -> dict[str, Any]:
    """Check a create body; returns ``location`` (only :data:`LOCATION_KEYS`), its typed ``query``, ``category``,
    ``description``, ``channel``, ``reported_at`` (aware, not in the future as of ``now``).
    Type errors -> 400, bad values -> 422, each with pointers."""
    if not isinstance(body, Mapping):
        raise BadRequest("the body must be a JSON object", errors=[{"pointer": "/", "detail": "not an object"}])
    type_errors: list[dict[str, str]] = []
    value_errors: list[dict[str, str]] = []
    location = body.get("location")
    if not isinstance(location, Mapping):
        type_errors.append({"pointer": "/location", "detail": "required: an object with text or lat/lon"})
    for key, allowed in (("category", CATEGORIES), ("channel", CHANNELS)):
        value = body.get(key)
        if not isinstance(value, str):
            type_errors.append({"pointer": f"/{key}", "detail": f"required: one of {', '.join(allowed)}"})
        elif value not in allowed:
            value_errors.append({"pointer": f"/{key}", "detail": f"unknown value; use one of {', '.join(allowed)}"})
    description = body.get("description", "")
    if description is None:
        description = ""
    if not isinstance(description, str):
        type_errors.append({"pointer": "/description", "detail": "must be a string"})
    elif len(description) > MAX_DESCRIPTION:
        value_errors.append({"pointer": "/description", "detail": f"at most {MAX_DESCRIPTION} characters"})
    reported_at: datetime | None = None
    raw_reported = body.get("reported_at")
    if not isinstance(raw_reported, str):
        type_errors.append({"pointer": "/reported_at", "detail": "required: ISO 8601 date-time with offset"})
    else:
        try:
            reported_at = parse_aware_datetime(raw_reported, "/reported_at")
        except InvalidInput as exc:
            value_errors.extend(exc.errors)
        else:
            why = _check_reported_at(reported_at, now or utcnow())
            if why:
                value_errors.append({"pointer": "/reported_at", "detail": why})
    if isinstance(location, Mapping):
        text = location.get("text")
        if isinstance(text, str) and len(text) > MAX_TEXT_LENGTH:
            value_errors.append({"pointer": "/location/text", "detail": f"at most {MAX_TEXT_LENGTH} characters"})
    if type_errors:
        raise BadRequest("the incident body is malformed", errors=type_errors + value_errors)
    if value_errors:
        raise InvalidInput("the incident body has invalid values", errors=value_errors)
    location_body = {k: location[k] for k in LOCATION_KEYS if location.get(k) is not None} \
        if isinstance(location, Mapping) else {}
    query = parse_location_body(location_body, pointer="/location")  # 400 with /location/... pointers
    parse_at(location_body, pointer="/location")
    return {"location": location_body, "query": query, "category": body["category"], "description": description,
            "channel": body["channel"], "reported_at": reported_at}


def _int_version(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadRequest("the body must carry the current 'version' (a positive integer)", code="VERSION_REQUIRED",
                         errors=[{"pointer": "/version", "detail": "required: the version you last read"}])
    return value


# ------------------------------------------------------------------ scope


def code_in_scope(code: str | None, scope: str | None) -> bool:
    """True when ``code`` is the scope unit or below it (``scope=None`` covers everything)."""
    if scope is None:
        return True
    if code is None:
        return False
    return code == scope or code.startswith(scope + ".")


def incident_in_scope(incident: Incident, scope: str | None) -> bool:
    """True when any of the incident's unit codes is within ``scope``."""
    if scope is None:
        return True
    codes = (incident.polda_code, incident.polres_code, incident.polsek_code, incident.unit_code)
    return any(code_in_scope(c, scope) for c in codes)


def effective_unit(requested: str | None, scope: str | None) -> str | None:
    """The unit to filter by: the requested one if it lies within the scope, else 403."""
    if requested is None:
        return scope
    if not code_in_scope(requested, scope):
        raise Forbidden(f"unit {requested!r} is outside your unit {scope!r}", code="OUT_OF_SCOPE")
    return requested


# ------------------------------------------------------------------ create


def _jurisdiction_codes(answer: Mapping[str, Any]) -> dict[str, str | None]:
    chain = answer.get("jurisdiction") or {}
    codes: dict[str, str | None] = {}
    for level in LEVELS:
        entry = chain.get(level) if isinstance(chain, Mapping) else None
        codes[level] = entry.get("code") if isinstance(entry, Mapping) else None
    return codes


def create_incident(
    session: Session,
    body: Any,
    index: JurisdictionIndex,
    *,
    actor: str,
    lang: str = "id",
    demo: bool = False,
    request_id: str | None = None,
    now: datetime | None = None,
    places: Any = None,
    index_at: IndexAt | None = None,
    earliest: datetime | None = None,
) -> Incident:
    """Validate, locate and record a new call (flushes; the caller commits).

    An unusable location still creates the incident (a call is a call) with no unit. With
    ``places`` (a ``PlaceService``) a place name in the location text is located too. With
    ``index_at`` (``IndexHolder.index_at``) the incident keeps the unit of its time: the set in
    force at the location's ``at``, else at ``reported_at`` (``earliest`` as in ``locate_location``).
    """
    now = now or utcnow()
    data = parse_incident_body(body, now=now)
    if index_at is not None:
        index = index_at(data["reported_at"].astimezone(UTC))  # a location's own "at" wins (locate_location)
    try:
        answer = to_builtins(locate_location(data["query"], index, lang=lang, places=places, index_at=index_at,
                                             earliest=earliest))
    except UnknownCRS as exc:
        raise UnknownCRS(exc.detail, errors=[{"pointer": "/location/crs", "detail": exc.detail}]) from None
    point = answer.get("point")
    lon = float(point["lon"]) if isinstance(point, Mapping) else None
    lat = float(point["lat"]) if isinstance(point, Mapping) else None
    codes = _jurisdiction_codes(answer) if lon is not None else {lvl: None for lvl in LEVELS}
    unit_code = codes["polsek"] or codes["polres"] or codes["polda"]
    reported_at: datetime = data["reported_at"]
    offset = reported_at.utcoffset() or timedelta(0)
    description = data["description"]
    if demo and not description.startswith(DEMO_PREFIX):
        description = DEMO_PREFIX + description
    incident = Incident(
        status=OPEN,
        version=1,
        category=data["category"],
        description=description,
        channel=data["channel"],
        reported_at=reported_at.astimezone(UTC),
        reported_utc_offset_min=int(offset.total_seconds() // 60),
        created_at=now,
        created_by=actor,
        updated_at=now,
        raw_location=data["location"],
        location=answer,
        lon=lon,
        lat=lat,
        geom=shapely.Point(lon, lat) if lon is not None and lat is not None else None,
        boundary_set_id=answer.get("boundary_set", index.set_id),
        polda_code=codes["polda"],
        polres_code=codes["polres"],
        polsek_code=codes["polsek"],
        unit_code=unit_code,
        demo=demo,
    )
    session.add(incident)
    session.flush()
    session.add(IncidentEvent(incident_id=incident.id, at=now, actor=actor, kind="created", from_status=None,
                              to_status=OPEN, from_unit=None, to_unit=unit_code, note=None, version=1))
    audit(session, actor=actor, action="incident.create", target_type="incident", target_id=incident.id,
          detail={"unit_code": unit_code, "category": incident.category, "channel": incident.channel,
                  "location_status": answer.get("status"), "boundary_set": incident.boundary_set_id,
                  "demo": demo},
          request_id=request_id)
    session.flush()
    return incident


# ------------------------------------------------------------------ read


def get_incident(session: Session, incident_id: int, *, scope: str | None = None) -> Incident:
    """One incident, or NotFound; Forbidden when it lies outside ``scope``."""
    incident = session.get(Incident, incident_id, populate_existing=True)
    if incident is None:
        raise NotFound(f"incident {incident_id} does not exist", code="INCIDENT_NOT_FOUND")
    if not incident_in_scope(incident, scope):
        raise Forbidden(f"incident {incident_id} belongs to a unit outside your unit {scope!r}", code="OUT_OF_SCOPE")
    return incident


def list_events(session: Session, incident_id: int) -> list[IncidentEvent]:
    """The incident's events, oldest first."""
    return incident_store.list_events(session, incident_id)


def is_overdue(incident: Incident, now: datetime, overdue_minutes: int) -> bool:
    """True when the incident is still ``belum_ditangani`` longer than ``overdue_minutes`` after the call."""
    return incident.status == OPEN and incident.reported_at < now - timedelta(minutes=overdue_minutes)


def local_isoformat(moment: datetime | None, offset_min: int) -> str | None:
    """ISO 8601 of a UTC datetime shown at a fixed UTC offset (minutes)."""
    if moment is None:
        return None
    return moment.astimezone(timezone(timedelta(minutes=offset_min))).isoformat()


def _utc_iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _unit_ref(code: str | None, index: JurisdictionIndex | None, stored: Mapping[str, Any] | None) -> Any:
    if code is None:
        return None
    if index is not None and code in index.units:
        return {"code": code, "name": index.units[code].name}
    name = stored.get("name") if isinstance(stored, Mapping) and stored.get("code") == code else None
    return {"code": code, "name": name}


def unit_dict(incident: Incident, index: JurisdictionIndex | None) -> dict[str, Any]:
    """``{polda, polres, polsek}`` as ``{code, name}`` or None (names from the index, else the stored answer)."""
    stored = (incident.location or {}).get("jurisdiction") or {}
    codes = {"polda": incident.polda_code, "polres": incident.polres_code, "polsek": incident.polsek_code}
    return {lvl: _unit_ref(codes[lvl], index, stored.get(lvl)) for lvl in LEVELS}


def event_to_dict(event: IncidentEvent) -> dict[str, Any]:
    """JSON-ready event."""
    return {"id": event.id, "at": _utc_iso(event.at), "actor": event.actor, "kind": event.kind,
            "from_status": event.from_status, "to_status": event.to_status, "from_unit": event.from_unit,
            "to_unit": event.to_unit, "note": event.note, "version": event.version}


def incident_to_dict(
    incident: Incident,
    index: JurisdictionIndex | None,
    *,
    now: datetime,
    overdue_minutes: int,
    events: Sequence[IncidentEvent] | None = None,
    with_location: bool = True,
) -> dict[str, Any]:
    """JSON-ready incident; ``reported_at`` keeps the caller's UTC offset, other times are UTC."""
    out: dict[str, Any] = {
        "id": incident.id,
        "status": incident.status,
        "version": incident.version,
        "category": incident.category,
        "description": incident.description,
        "channel": incident.channel,
        "reported_at": local_isoformat(incident.reported_at, incident.reported_utc_offset_min),
        "created_at": _utc_iso(incident.created_at),
        "created_by": incident.created_by,
        "updated_at": _utc_iso(incident.updated_at),
        "first_action_at": _utc_iso(incident.first_action_at),
        "done_at": _utc_iso(incident.done_at),
        "unit": unit_dict(incident, index),
        "unit_code": incident.unit_code,
        "point": None if incident.lon is None else {"lon": incident.lon, "lat": incident.lat},
        "location_status": (incident.location or {}).get("status"),
        "boundary_set": incident.boundary_set_id,
        "overdue": is_overdue(incident, now, overdue_minutes),
        "demo": incident.demo,
    }
    if incident.unit_code is None:
        out["notice"] = UNASSIGNED_NOTICE
    if with_location:
        out["location"] = incident.location
        out["raw_location"] = incident.raw_location
    if events is not None:
        out["events"] = [event_to_dict(e) for e in events]
    return out


def list_incidents(
    session: Session,
    query: IncidentQuery,
    *,
    now: datetime,
    overdue_minutes: int,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[Incident], int]:
    """One page of matching incidents (newest call first) and the total count."""
    return incident_store.incident_page(session, query, overdue_before=now - timedelta(minutes=overdue_minutes),
                                        limit=per_page, offset=(page - 1) * per_page)


def iter_incidents(session: Session, query: IncidentQuery, *, now: datetime, overdue_minutes: int,
                   limit: int = MAX_CSV_ROWS) -> Iterator[Incident]:
    """Every matching incident (newest call first), at most ``limit``."""
    yield from incident_store.iter_matching(session, query, overdue_before=now - timedelta(minutes=overdue_minutes),
                                            limit=limit)


def incidents_csv(incidents: Iterable[Incident], index: JurisdictionIndex | None, *, now: datetime,
                  overdue_minutes: int) -> str:
    """CSV (header + one row per incident) of the given incidents."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for inc in incidents:
        unit = _unit_ref(inc.unit_code, index, None)
        writer.writerow([
            inc.id, inc.status, inc.version, inc.category, inc.channel,
            local_isoformat(inc.reported_at, inc.reported_utc_offset_min), _utc_iso(inc.created_at),
            csv_safe(inc.created_by), _utc_iso(inc.first_action_at) or "", _utc_iso(inc.done_at) or "",
            inc.polda_code or "", inc.polres_code or "", inc.polsek_code or "", inc.unit_code or "",
            csv_safe((unit or {}).get("name") or ""),
            "" if inc.lon is None else repr(inc.lon), "" if inc.lat is None else repr(inc.lat),
            (inc.location or {}).get("status") or "",
            "true" if is_overdue(inc, now, overdue_minutes) else "false",
            "true" if inc.demo else "false", csv_safe(inc.description),
        ])
    return buf.getvalue()


# ------------------------------------------------------------------ update


def parse_update_body(body: Any) -> dict[str, Any]:
    """Check a PATCH body: ``version`` (required), ``status``, ``unit_code``, ``note`` (optional)."""
    if not isinstance(body, Mapping):
        raise BadRequest("the body must be a JSON object", errors=[{"pointer": "/", "detail": "not an object"}])
    unknown = sorted(set(body) - {"version", "status", "unit_code", "note"})
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}",
                         errors=[{"pointer": f"/{k}", "detail": "unknown field"} for k in unknown])
    version = _int_version(body.get("version"))
    errors: list[dict[str, str]] = []
    status, unit_code, note = body.get("status"), body.get("unit_code"), body.get("note")
    if status is not None and status not in STATUSES:
        errors.append({"pointer": "/status", "detail": f"use one of {', '.join(STATUSES)}"})
    if unit_code is not None and (not isinstance(unit_code, str) or not unit_code or len(unit_code) > 40):
        errors.append({"pointer": "/unit_code", "detail": "must be a unit code such as '51.71.04'"})
    if note is not None and not isinstance(note, str):
        errors.append({"pointer": "/note", "detail": "must be a string"})
    elif isinstance(note, str) and len(note) > MAX_NOTE:
        errors.append({"pointer": "/note", "detail": f"at most {MAX_NOTE} characters"})
    if errors:
        raise BadRequest("the update body is malformed", errors=errors)
    note = note.strip() if isinstance(note, str) else None
    if status is None and unit_code is None and not note:
        raise BadRequest("nothing to change: give status, unit_code or note", code="NOTHING_TO_CHANGE",
                         errors=[{"pointer": "/", "detail": "give status, unit_code or note"}])
    return {"version": version, "status": status, "unit_code": unit_code, "note": note or None}


def check_transition(current: str, new: str) -> None:
    """Raise 409 INVALID_TRANSITION unless ``current -> new`` is allowed."""
    if new in TRANSITIONS.get(current, frozenset()):
        return
    if current in FINAL_STATUSES:
        why = f"the incident is {current}, a final status"
    elif current == new:
        why = f"the incident is already {current}"
    else:
        allowed = ", ".join(sorted(TRANSITIONS[current]))
        why = f"from {current} the next status can only be {allowed}"
    raise Conflict(f"cannot change status {current} -> {new}: {why}", code="INVALID_TRANSITION",
                   extra={"from_status": current, "to_status": new})


def _stale(incident_id: int, expected: int, current: int) -> Conflict:
    return Conflict(
        f"incident {incident_id} was changed by someone else (version {current}, you sent {expected}): "
        "reload it and apply your change again",
        code="STALE_VERSION", extra={"current_version": current},
    )


def check_update_scope(incident: Incident, data: Mapping[str, Any], scope: str | None) -> None:
    """403 ``OUT_OF_SCOPE`` unless a principal scoped to ``scope`` may apply ``data`` to ``incident``."""
    if scope is None or incident_in_scope(incident, scope):
        return
    assigned = any((incident.polda_code, incident.polres_code, incident.polsek_code, incident.unit_code))
    if not assigned and data.get("unit_code") is not None and code_in_scope(data["unit_code"], scope):
        return  # claiming an unassigned call for one's own unit
    why = f"belongs to a unit outside your unit {scope!r}" if assigned else \
        f"has no unit yet: claim it for your unit {scope!r} with unit_code, or leave it to the central desk"
    raise Forbidden(f"incident {incident.id} {why}", code="OUT_OF_SCOPE")


def update_incident(
    session: Session,
    incident_id: int,
    body: Any,
    index: JurisdictionIndex,
    *,
    actor: str,
    scope: str | None = None,
    request_id: str | None = None,
    now: datetime | None = None,
) -> Incident:
    """Apply a status change, a reassignment and/or a note with optimistic locking (flushes).

    Raises 409 ``STALE_VERSION`` when ``version`` is not the current one (checked by the
    conditional UPDATE itself, so two concurrent writers cannot both win) and 409
    ``INVALID_TRANSITION`` for a status change the workflow forbids. A dispatcher with a unit
    may update incidents in that unit (and hand them over to any unit); an unassigned incident
    (no usable position) it may only claim, by assigning it to a unit within its own, before it
    changes anything else: status changes and notes on unassigned calls belong to the unscoped
    (central) desk.
    """
    data = parse_update_body(body)
    now = now or utcnow()
    incident = session.get(Incident, incident_id, populate_existing=True)
    if incident is None:
        raise NotFound(f"incident {incident_id} does not exist", code="INCIDENT_NOT_FOUND")
    check_update_scope(incident, data, scope)
    expected = data["version"]
    if incident.version != expected:
        raise _stale(incident_id, expected, incident.version)

    values: dict[str, Any] = {}
    events: list[dict[str, Any]] = []
    new_status = data["status"]
    if new_status is not None:
        check_transition(incident.status, new_status)
        values["status"] = new_status
        if incident.first_action_at is None:
            values["first_action_at"] = now
        if new_status == DONE:
            values["done_at"] = now
        events.append({"kind": "status", "from_status": incident.status, "to_status": new_status})
    new_unit = data["unit_code"]
    if new_unit is not None:
        if incident.status in FINAL_STATUSES:
            raise Conflict(f"incident {incident_id} is {incident.status} (final) and cannot be reassigned",
                           code="INVALID_TRANSITION")
        if new_unit not in index.units:
            raise InvalidInput(f"unit {new_unit!r} is not in the published boundary set", code="UNKNOWN_UNIT",
                               errors=[{"pointer": "/unit_code", "detail": "unknown unit code"}])
        if new_unit == incident.unit_code:
            raise InvalidInput(f"incident {incident_id} is already assigned to {new_unit}", code="UNIT_UNCHANGED",
                               errors=[{"pointer": "/unit_code", "detail": "already the assigned unit"}])
        if not data["note"]:
            raise InvalidInput("a reassignment needs a reason: give it in 'note'", code="NOTE_REQUIRED",
                               errors=[{"pointer": "/note", "detail": "required when unit_code is given"}])
        chain = index.chain(new_unit)
        values.update(unit_code=new_unit, polda_code=chain["polda"].code if "polda" in chain else None,
                      polres_code=chain["polres"].code if "polres" in chain else None,
                      polsek_code=chain["polsek"].code if "polsek" in chain else None)
        events.append({"kind": "reassign", "from_unit": incident.unit_code, "to_unit": new_unit})
    if data["note"]:
        if events:
            events[-1]["note"] = data["note"]  # the note explains the change it came with
        else:
            events.append({"kind": "note", "note": data["note"]})

    new_version = expected + 1
    if not incident_store.update_if_version(session, incident_id, expected,
                                            {**values, "version": new_version, "updated_at": now}):
        current = incident_store.current_version(session, incident_id)
        if current is None:
            raise NotFound(f"incident {incident_id} does not exist", code="INCIDENT_NOT_FOUND")
        raise _stale(incident_id, expected, current)
    for ev in events:
        session.add(IncidentEvent(incident_id=incident_id, at=now, actor=actor, kind=ev["kind"],
                                  from_status=ev.get("from_status"), to_status=ev.get("to_status"),
                                  from_unit=ev.get("from_unit"), to_unit=ev.get("to_unit"),
                                  note=ev.get("note"), version=new_version))
    audit(session, actor=actor, action="incident.update", target_type="incident", target_id=incident_id,
          detail={"version": new_version, "changes": {k: v for k, v in data.items() if k != "version" and v},
                  "from_status": incident.status, "from_unit": incident.unit_code},
          request_id=request_id)
    session.flush()
    session.refresh(incident)
    if new_unit is not None:  # a dispatcher assigned a unit: the incident's "dispatched" milestone (the first counts)
        from geo_service.services.milestones import record_dispatch  # milestones builds on this module

        record_dispatch(session, incident_id, actor=actor, now=now)
    return incident


#: Event kinds that set an incident's location or unit: a caller's answer to a location request
#: does not overwrite one a dispatcher made after the request (it becomes a note instead).
LOCATION_SETTING_KINDS = ("location", "reassign")
CALLER_ACTOR = "caller"
CALLER_LOCATION_TRIES = 3


def _caller_fix_words(source: str, accuracy_m: float | None) -> str:
    accuracy = "" if accuracy_m is None else f", accuracy {round(accuracy_m)} m"
    return f"location received from the caller's phone (source {source}{accuracy})"


def _why_not_moved(session: Session, incident: Incident, *, requested_at: datetime, source: str) -> str | None:
    """Why the caller's point must not replace the incident's location (None when it may)."""
    if incident.status in FINAL_STATUSES:
        return f"the incident is {incident.status}"
    later = incident_store.last_event_at(session, incident.id, kinds=LOCATION_SETTING_KINDS,
                                         not_actor=CALLER_ACTOR, after=requested_at)
    if later is not None:
        return f"a dispatcher set the location or unit at {_utc_iso(later)}, after the request"
    if source == "text" and incident.lon is not None:
        return "a typed place is rougher than the point the incident has"
    return None


def apply_caller_location(
    session: Session,
    incident_id: int,
    location: LocateAnswer | Mapping[str, Any],
    index: JurisdictionIndex,
    *,
    raw_location: Mapping[str, Any],
    requested_at: datetime,
    source: str,
    accuracy_m: float | None = None,
    request_public_id: str | None = None,
    request_id: str | None = None,
    now: datetime | None = None,
) -> Incident | None:
    """Write a caller's answer to a location request into its incident (flushes; None when gone).

    The located point becomes the incident's location and its jurisdiction the incident's unit,
    with one ``location`` event ("location received from the caller's phone", source and
    accuracy) and one audit record, under the same conditional ``UPDATE ... WHERE version`` as
    :func:`update_incident` (retried on a fresh read: the caller cannot resend). ``raw_location``
    is what the caller's phone sent, as a location body. The location is
    not moved, and a ``note`` event says why, when the incident is final, when a dispatcher set
    its location or unit after ``requested_at`` (never overwritten silently), when the caller
    only typed a place and the incident already has a point, or when the point lies outside
    every unit while the incident has one.
    """
    now = now or utcnow()
    if isinstance(location, LocateAnswer):
        location = to_builtins(location)  # stored as JSON with the incident
    assert isinstance(location, Mapping)
    point = location.get("point")
    if not isinstance(point, Mapping):
        return None
    lon, lat = float(point["lon"]), float(point["lat"])
    words = _caller_fix_words(source, accuracy_m)
    for _try in range(CALLER_LOCATION_TRIES):
        incident = session.get(Incident, incident_id, populate_existing=True)
        if incident is None:
            return None
        expected = incident.version
        why = _why_not_moved(session, incident, requested_at=requested_at, source=source)
        codes = _jurisdiction_codes(location)
        unit_code = codes["polsek"] or codes["polres"] or codes["polda"]
        if why is None and unit_code is None and incident.unit_code is not None:
            # Whoever holds the link could otherwise drop the incident out of every unit's queue.
            why = "the position is outside every unit"
        values: dict[str, Any] = {}
        if why is None:
            values = {"location": dict(location), "raw_location": dict(raw_location), "lon": lon, "lat": lat,
                      "geom": shapely.Point(lon, lat),
                      "boundary_set_id": location.get("boundary_set", index.set_id),
                      "polda_code": codes["polda"], "polres_code": codes["polres"], "polsek_code": codes["polsek"],
                      "unit_code": unit_code}
            event = {"kind": "location", "from_unit": incident.unit_code, "to_unit": unit_code, "note": words}
        else:
            event = {"kind": "note", "note": f"{words} at lat {lat:.6f}, lon {lon:.6f}; not applied: {why}"}
        new_version = expected + 1
        if not incident_store.update_if_version(session, incident_id, expected,
                                                {**values, "version": new_version, "updated_at": now}):
            continue  # a dispatcher changed it meanwhile: read again and decide again
        session.add(IncidentEvent(incident_id=incident_id, at=now, actor=CALLER_ACTOR, kind=event["kind"],
                                  from_status=None, to_status=None, from_unit=event.get("from_unit"),
                                  to_unit=event.get("to_unit"), note=event["note"], version=new_version))
        audit(session, actor=CALLER_ACTOR, action="incident.caller_location", target_type="incident",
              target_id=incident_id, request_id=request_id,
              detail={"version": new_version, "applied": why is None, "why_not": why, "source": source,
                      "accuracy_m": accuracy_m, "location_request": request_public_id,
                      "from_unit": incident.unit_code, "to_unit": values.get("unit_code", incident.unit_code)})
        session.flush()
        session.refresh(incident)
        return incident
    current = incident_store.current_version(session, incident_id)
    raise _stale(incident_id, expected, current or expected)


def replay_events(events: Sequence[IncidentEvent]) -> dict[str, Any]:
    """Rebuild status, unit, first_action_at, done_at and version from an incident's event log."""
    state: dict[str, Any] = {"status": OPEN, "unit_code": None, "first_action_at": None, "done_at": None,
                             "version": 0}
    for ev in sorted(events, key=lambda e: (e.version, e.id)):
        state["version"] = max(state["version"], ev.version)
        if ev.kind == "created":
            state["unit_code"] = ev.to_unit
        elif ev.kind == "status":
            state["status"] = ev.to_status
            state["first_action_at"] = state["first_action_at"] or ev.at
            if ev.to_status == DONE:
                state["done_at"] = ev.at
        elif ev.kind in LOCATION_SETTING_KINDS:
            state["unit_code"] = ev.to_unit
    return state


# ------------------------------------------------------------------ demo data

DEMO_TEXTS = {
    "kecelakaan": ["Tabrakan sepeda motor di simpang", "Mobil terguling di tikungan", "Pejalan kaki tertabrak"],
    "pencurian": ["Sepeda motor hilang di parkiran", "Tas dijambret di pasar", "Rumah dibobol saat kosong"],
    "kebakaran": ["Kebakaran warung", "Asap tebal dari gudang", "Lahan kosong terbakar"],
    "kdrt": ["Laporan keributan rumah tangga", "Tetangga mendengar teriakan minta tolong"],
    "gangguan_ketertiban": ["Keributan pemuda mabuk", "Balap liar malam hari", "Musik keras lewat tengah malam"],
    "lainnya": ["Anak hilang di pantai", "Wisatawan tersesat", "Hewan liar masuk pemukiman"],
}


def seed_demo_incidents(
    session: Session,
    index: JurisdictionIndex,
    *,
    count: int = 60,
    seed: int = 110,
    now: datetime | None = None,
    root: str = "51",
) -> list[int]:
    """Create ``count`` demo incidents (``demo=True``, description prefixed ``[DEMO]``) spread over the
    current and the previous ISO week (local time of ``root``) with a mix of statuses; deterministic
    for a given ``seed`` and week. Returns the new ids (flushes; the caller commits)."""
    now = now or utcnow()
    rng = random.Random(seed)
    leaves = sorted(u.code for u in index.descendants(root) if not index.children(u.code)) if root in index.units \
        else list(index.leaf_codes)
    if not leaves:
        return []
    try:
        zone = zone_for_unit(root)
    except KeyError:
        zone = WITA
    local_now = now.astimezone(zone.tz)
    this_monday = (local_now - timedelta(days=local_now.weekday())).replace(hour=0, minute=0, second=0,
                                                                            microsecond=0)
    start = this_monday - timedelta(days=7)
    span_s = max(60, int((now - start).total_seconds()) - 60)
    ids = []
    for _ in range(count):
        code = rng.choice(leaves)
        ref = index.reference_point(code)
        if ref is None:
            continue
        # Move away from the unit's reference point (a "default location" the validator rightly
        # doubts) to a random point still inside the unit, so demo calls look like real ones.
        for _try in range(20):
            cand = (ref[0] + rng.uniform(-0.01, 0.01), ref[1] + rng.uniform(-0.01, 0.01))
            if index.unit_covers_xy(code, *cand):
                ref = cand
                break
        category = rng.choice(CATEGORIES)
        reported = (start + timedelta(seconds=rng.randrange(span_s))).astimezone(zone.tz).replace(microsecond=0)
        body = {
            "location": {"lat": round(ref[1], 6), "lon": round(ref[0], 6)},
            "category": category,
            "description": rng.choice(DEMO_TEXTS[category]),
            "reported_at": reported.isoformat(),
            "channel": rng.choices(CHANNELS, weights=(6, 3, 1))[0],
        }
        created = reported.astimezone(UTC) + timedelta(seconds=rng.randrange(30, 240))
        inc = create_incident(session, body, index, actor=DEMO_ACTOR, demo=True, now=min(created, now))
        ids.append(inc.id)
        roll = rng.random()
        t = min(created, now)
        plan = [] if roll < 0.2 else [IN_PROGRESS] if roll < 0.45 else [IN_PROGRESS, DONE] if roll < 0.9 \
            else [CANCELLED]
        for status in plan:
            t = t + timedelta(minutes=rng.randrange(3, 180))
            if t >= now:
                break
            inc = update_incident(session, inc.id, {"status": status, "version": inc.version,
                                                    "note": "[DEMO] otomatis"}, index, actor=DEMO_ACTOR, now=t)
    LOGGER.info("seeded %d demo incidents", len(ids))
    return ids


def clear_demo_incidents(session: Session, *, actor: str = DEMO_ACTOR) -> int:
    """Delete demo incidents and their events only; returns how many incidents were deleted."""
    n = incident_store.delete_demo_incidents(session)
    audit(session, actor=actor, action="incident.demo_clear", target_type="incident", detail={"deleted": n})
    session.flush()
    return n


__all__ = [
    "CATEGORIES", "CHANNELS", "STATUSES", "TRANSITIONS", "IncidentQuery", "apply_caller_location", "check_transition", "check_update_scope", "clear_demo_incidents",
    "code_in_scope", "create_incident", "effective_unit", "get_incident", "incident_in_scope", "incident_to_dict",
    "incidents_csv", "is_overdue", "iter_incidents", "list_events", "list_incidents", "parse_aware_datetime",
    "replay_events", "seed_demo_incidents", "unit_filter", "update_incident",
]
