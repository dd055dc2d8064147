"""Use case "response from the field" (issue 16): incident milestones with who, when and where.

Milestones, in order: ``received`` (the incident's ``reported_at``), ``answered`` (the linked
110 call's ``answered_at``), ``dispatched`` (an officer link sent for the incident or a unit
assigned by a dispatcher, whichever comes first), then the
officer's taps ``acknowledged`` ("Terima"), ``en_route`` ("Menuju lokasi"), ``on_scene``
("Tiba di lokasi") and ``done`` ("Selesai"). The first two are read from the incident and
its calls; the others are stored, at most one per kind and incident: the first one counts and
a retry with the same idempotency key (a flaky connection) returns the stored one.

Time of a tap: the phone's time when it is plausible (not more than 60 s in the future, not
before the call nor, for the officer's taps, before the officer was dispatched, not older than
24 h: a tap queued offline keeps its real time), else the server's. Position: the phone's (browser Geolocation, with the officer's consent); an arrival
more than :data:`FAR_FROM_INCIDENT_M` from the incident point is flagged ``far``.

Status: "Terima" (or a later tap) moves a ``belum_ditangani`` incident to ``dalam_proses``;
"Selesai" moves ``dalam_proses`` to ``selesai`` (the same workflow and event log as a
dispatcher's change). Quick-response target (call -> on scene): ``services.calls.make_target``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any

from msgspec import Meta
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from geo_service.errors import BadRequest, Conflict, InvalidInput, NotFound
from geo_service.geo.distance import distance_m
from geo_service.geo.index import JurisdictionIndex
from geo_service.services import incidents as incident_service
from geo_service.services.api_types import Body, decode, one_of
from geo_service.storage import calls as store
from geo_service.storage import credentials
from geo_service.storage.models import Incident, IncidentMilestone
from geo_service.storage.repo import audit
from geo_service.storage.types import utcnow
from geo_service.translations import NP_, pgettext

KINDS = ("received", "answered", "dispatched", "acknowledged", "en_route", "on_scene", "done")
RECORDED_KINDS = ("dispatched", "acknowledged", "en_route", "on_scene", "done")
OFFICER_KINDS = ("acknowledged", "en_route", "on_scene", "done")
FAR_FROM_INCIDENT_M = 500.0
CLOCK_SKEW_S = 60
MAX_QUEUED_S = 24 * 3600
MAX_KEY = 80
#: Milestone -> its words (message ids of the gettext catalogs, context "milestone").
LABELS = {
    "received": NP_("milestone", "Report received"), "answered": NP_("milestone", "Call answered"),
    "dispatched": NP_("milestone", "Officer dispatched"), "acknowledged": NP_("milestone", "Accepted"),
    "en_route": NP_("milestone", "On the way"), "on_scene": NP_("milestone", "On scene"),
    "done": NP_("milestone", "Done"),
}


def milestone_label(kind: str, lang: str = "id") -> str:
    """The milestone's words in ``lang``."""
    return pgettext(lang, *LABELS[kind])


class MilestoneCreate(Body):
    """A response milestone from the field (the first of a kind counts): decoded once, by type, with
    the field's JSON pointer on a mismatch (:func:`~geo_service.services.api_types.decode`)."""

    kind: Annotated[str, one_of(RECORDED_KINDS, "an officer link may record acknowledged, en_route, "
                                                "on_scene and done")]
    key: Annotated[str, Meta(min_length=8, max_length=MAX_KEY, description="idempotency key")] | None = None
    at: Annotated[str, Meta(description="the phone's time of the tap (ISO 8601 with offset)",
                            extra_json_schema={"format": "date-time"})] | None = None
    lat: Annotated[float, Meta(ge=-90, le=90)] | None = None
    lon: Annotated[float, Meta(ge=-180, le=180)] | None = None
    accuracy_m: Annotated[float, Meta(ge=0, le=1e6)] | None = None


def parse_milestone_body(body: Any, allowed: Sequence[str]) -> dict[str, Any]:
    """Decode ``{kind, key?, at?, lat?, lon?, accuracy_m?}`` (400 with pointers), then check what a type
    cannot say: the kinds this caller may record, an aware time, lat and lon together."""
    data = decode(MilestoneCreate, body, title="the milestone body is malformed")
    errors: list[dict[str, str]] = []
    if data.kind not in allowed:
        errors.append({"pointer": "/kind", "detail": f"one of {', '.join(allowed)}"})
    at = None
    if data.at is not None:
        try:
            at = incident_service.parse_aware_datetime(data.at, "/at")
        except (BadRequest, InvalidInput) as exc:
            errors.extend(exc.errors)
    if (data.lat is None) != (data.lon is None):
        errors.append({"pointer": "/lat", "detail": "give lat and lon together"})
    if errors:
        raise BadRequest("the milestone body is malformed", errors=errors)
    return {"kind": data.kind, "key": data.key, "at": at, "lat": data.lat, "lon": data.lon,
            "accuracy_m": data.accuracy_m}


def _plausible_time(sent: datetime | None, not_before: datetime, now: datetime) -> datetime:
    if sent is None:
        return now
    if sent > now + timedelta(seconds=CLOCK_SKEW_S) or sent < not_before or (now - sent).total_seconds() > MAX_QUEUED_S:
        return now
    return min(sent, now)


def _advance_status(session: Session, incident: Incident, kind: str, index: JurisdictionIndex, actor: str,
                    now: datetime) -> None:
    wanted = []
    if incident.status == incident_service.OPEN and kind in OFFICER_KINDS:
        wanted.append(incident_service.IN_PROGRESS)
    if kind == "done" and incident.status in (incident_service.OPEN, incident_service.IN_PROGRESS):
        wanted.append(incident_service.DONE)
    for status in wanted:
        for _attempt in range(3):
            try:
                incident = incident_service.update_incident(
                    session, incident.id, {"status": status, "version": incident.version,
                                           "note": f"110: {milestone_label(kind)}"}, index, actor=actor, now=now)
                break
            except Conflict as exc:
                if exc.code != "STALE_VERSION":
                    return  # someone closed or cancelled it meanwhile: the milestone still counts
                session.refresh(incident)


def record_milestone(session: Session, incident_id: int, data: Mapping[str, Any], *, actor: str,
                     index: JurisdictionIndex | None = None, now: datetime | None = None) -> tuple[IncidentMilestone, bool]:
    """Store a milestone once (flushes). Returns ``(milestone, created)``; a repeat returns the first one."""
    now = now or utcnow()
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} does not exist", code="INCIDENT_NOT_FOUND")
    kind = data["kind"]
    existing = store.find_milestone(session, incident_id, kind, data.get("key"))
    if existing is not None:
        if existing.incident_id != incident_id or existing.kind != kind:
            raise Conflict("this idempotency key was used for another milestone", code="KEY_REUSED")
        return existing, False
    lon, lat = data.get("lon"), data.get("lat")
    dist = None
    if lon is not None and lat is not None and incident.lon is not None and incident.lat is not None:
        dist = round(distance_m(lon, lat, incident.lon, incident.lat), 1)
    not_before = incident.reported_at
    if kind in OFFICER_KINDS:  # a tap cannot precede the link it came through
        sent = store.find_milestone(session, incident_id, "dispatched", None)
        not_before = max(not_before, sent.at) if sent is not None else not_before
    row = IncidentMilestone(incident_id=incident_id, kind=kind,
                            at=_plausible_time(data.get("at"), not_before, now), recorded_at=now,
                            actor=actor, lon=lon, lat=lat, accuracy_m=data.get("accuracy_m"), distance_m=dist,
                            idempotency_key=data.get("key"))
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # a concurrent retry of the same tap won the race
        existing = store.find_milestone(session, incident_id, kind, data.get("key"))
        if existing is None:
            raise
        return existing, False
    if index is not None and kind in OFFICER_KINDS:
        _advance_status(session, incident, kind, index, actor, row.at)
    audit(session, actor=actor, action="incident.milestone", target_type="incident",
                           target_id=incident_id, detail={"kind": kind, "distance_m": dist})
    session.flush()
    return row, True


def record_dispatch(session: Session, incident_id: int, *, actor: str, now: datetime) -> None:
    """The hook of officer-link creation and of a dispatcher's unit assignment: the first of them is the
    incident's ``dispatched`` time (a later one returns the stored milestone: no double counting)."""
    if session.get(Incident, incident_id) is None:
        return
    record_milestone(session, incident_id, {"kind": "dispatched"}, actor=actor, now=now)


def link_incident_id(session: Session, jti: str) -> int | None:
    """The incident an officer link was sent for (None when the link is for a bare point)."""
    return credentials.officer_link_incident_id(session, jti)


def link_progress(session: Session | None, jti: str, *, lang: str = "id") -> dict[str, Any] | None:
    """What the officer page needs for its buttons: ``{incident_id, buttons: [(kind, label)], done: [kinds]}``,
    or None for a link to a bare point (or when the database is away: the page still opens)."""
    if session is None:
        return None
    try:
        incident_id = link_incident_id(session, jti)
        if incident_id is None:
            return None
        done = [m.kind for m in store.list_milestones(session, incident_id)]
    except SQLAlchemyError:
        return None
    labels = {kind: milestone_label(kind, lang) for kind in LABELS}
    return {"incident_id": incident_id, "buttons": [(k, labels[k]) for k in OFFICER_KINDS], "done": done}


def timeline(session: Session, incident: Incident, *, lang: str = "id") -> list[dict[str, Any]]:
    """Every milestone of an incident, derived ones included, with seconds since the call and the far flag."""
    items: list[dict[str, Any]] = [{"kind": "received", "at": incident.reported_at, "actor": incident.created_by}]
    answered = [c for c in store.calls_of_incident(session, incident.id) if c.answered_at is not None]
    if answered:
        items.append({"kind": "answered", "at": answered[0].answered_at, "actor": answered[0].answered_by})
    for m in store.list_milestones(session, incident.id):
        items.append({"kind": m.kind, "at": m.at, "actor": m.actor, "lat": m.lat, "lon": m.lon,
                      "accuracy_m": m.accuracy_m, "distance_m": m.distance_m,
                      "far": m.kind == "on_scene" and m.distance_m is not None and m.distance_m > FAR_FROM_INCIDENT_M})
    items.sort(key=lambda x: (x["at"], KINDS.index(x["kind"])))
    for item in items:
        for key in ("lat", "lon", "accuracy_m", "distance_m"):
            item.setdefault(key, None)
        item.setdefault("far", False)
        item["s_since_call"] = int((item["at"] - incident.reported_at).total_seconds())
        item["label"] = milestone_label(item["kind"], lang)
        item["at"] = item["at"].isoformat().replace("+00:00", "Z")
    return items


def milestone_to_dict(m: IncidentMilestone) -> dict[str, Any]:
    """JSON-ready stored milestone."""
    return {"id": m.id, "incident_id": m.incident_id, "kind": m.kind,
            "at": m.at.isoformat().replace("+00:00", "Z"), "actor": m.actor, "lat": m.lat, "lon": m.lon,
            "accuracy_m": m.accuracy_m, "distance_m": m.distance_m,
            "far": m.kind == "on_scene" and m.distance_m is not None and m.distance_m > FAR_FROM_INCIDENT_M}


__all__ = ["FAR_FROM_INCIDENT_M", "KINDS", "OFFICER_KINDS", "RECORDED_KINDS", "MilestoneCreate", "link_incident_id",
           "link_progress",
           "milestone_to_dict", "parse_milestone_body", "record_dispatch", "record_milestone", "timeline"]
