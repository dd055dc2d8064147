"""Typed bodies of the incident API: create/update, the incident, its list, milestones, the weekly recap.

Documentation types (see :mod:`geo_service.services.api_types`): the use case in
:mod:`geo_service.services.incidents` builds the answers; ``tests/web/test_openapi_answers.py`` checks
every real answer against these.

The milestone body (:class:`~geo_service.services.milestones.MilestoneCreate`) lives with its use case,
which decodes it.
"""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, field

from geo_service.services.api_types import (
    UNSET,
    Answer,
    Body,
    IsoTime,
    LocateAnswerRef,
    LocationRef,
    Point,
    UnitRef,
    UnsetType,
    describe,
    one_of,
)
from geo_service.services.incidents import CATEGORIES, CHANNELS, MAX_DESCRIPTION, MAX_NOTE, STATUSES
from geo_service.services.milestones import KINDS

Status = Annotated[str, one_of(STATUSES)]
Category = Annotated[str, one_of(CATEGORIES)]


class IncidentCreate(Body):
    """A call to record: its location is validated and located, the responsible unit assigned."""

    location: LocationRef
    category: Category
    reported_at: Annotated[IsoTime, describe("ISO 8601 with a UTC offset (a time without offset is refused)",
                                             examples=["2026-11-28T14:05:00+08:00"])]
    channel: Annotated[str, one_of(CHANNELS)]
    description: Annotated[str, Meta(max_length=MAX_DESCRIPTION)] | None | UnsetType = UNSET


class IncidentPatch(Body, forbid_unknown_fields=True):
    """Change status, reassign (with a note) or add a note, naming the version you read."""

    version: Annotated[int, Meta(ge=1, description="the version you last read (optimistic lock)")]
    status: Status | UnsetType = UNSET
    unit_code: Annotated[str, describe("reassign to this unit (needs a note)")] | UnsetType = UNSET
    note: Annotated[str, Meta(max_length=MAX_NOTE)] | UnsetType = UNSET


class IncidentUnits(Answer):
    """The incident's Polda, Polres and Polsek (names from the published set, else as stored)."""

    polda: UnitRef | None
    polres: UnitRef | None
    polsek: UnitRef | None


class IncidentEvent(Answer):
    """One entry of the append-only event log."""

    id: int
    at: IsoTime
    actor: str
    kind: str
    from_status: str | None
    to_status: str | None
    from_unit: str | None
    to_unit: str | None
    note: str | None
    version: int


class IncidentSummary(Answer):
    """An incident as the list shows it (no location answer, no events)."""

    id: int
    status: Status
    version: int
    category: Category
    description: str | None
    channel: str
    reported_at: Annotated[IsoTime, describe("in the caller's UTC offset")]
    created_at: IsoTime
    created_by: str
    updated_at: IsoTime | None
    first_action_at: IsoTime | None
    done_at: IsoTime | None
    unit: IncidentUnits
    unit_code: str | None
    point: Point | None
    location_status: str | None
    boundary_set: int | None
    overdue: bool
    demo: bool
    notice: Annotated[str, describe("why no unit was assigned")] | UnsetType = UNSET


class Incident(IncidentSummary, kw_only=True):
    """One incident with its location answer, the raw input and (when read alone) its event log."""

    location: LocateAnswerRef | None
    raw_location: Annotated[Any, describe("the location body as the caller sent it")]
    events: list[IncidentEvent] | UnsetType = UNSET


class IncidentPage(Answer):
    """A page of incidents."""

    items: list[IncidentSummary]
    total: int
    page: int
    per_page: int
    overdue_minutes: int


class MilestoneFields(Answer):
    """What every milestone says: the step, when, who and where (``far``: an arrival more than 500 m from
    the incident point)."""

    kind: Annotated[str, one_of(KINDS)]
    at: IsoTime
    actor: str | None
    lat: float | None
    lon: float | None
    accuracy_m: float | None
    distance_m: Annotated[float | None, describe("metres from the incident point")]
    far: bool


class Milestone(MilestoneFields, kw_only=True):
    """A stored milestone; ``created`` is false when an earlier one of the kind (or key) counts."""

    id: int
    incident_id: int
    created: bool


class TimelineEntry(MilestoneFields, kw_only=True):
    """One step of the response timeline, derived ones (received, answered) included."""

    s_since_call: int
    label: str


class Timeline(Answer):
    """An incident's response timeline."""

    incident_id: int
    milestones: list[TimelineEntry]


class RecapUnit(Answer):
    """The unit a recap is about."""

    code: str
    name: str
    level: str


class UnhandledIncident(Answer):
    """An incident of the week still unhandled now."""

    id: int
    reported_at: IsoTime
    age_minutes: int
    category: Category
    unit_code: str | None
    overdue: bool
    description: str | None


class RecapChild(Answer):
    """A unit below, ranked."""

    code: str
    name: str
    level: str
    total: int
    counts: dict[str, int]
    by_category: dict[str, int]
    median_minutes_to_first_action: float | None
    median_minutes_to_done: float | None
    unhandled: int


class WeeklyRecap(Answer):
    """Weekly recap of a unit in its local time zone (Monday 00:00 to Monday 00:00)."""

    unit: RecapUnit
    week: Annotated[str, Meta(pattern=r"^\d{4}-W\d{2}$")]
    timezone: str
    timezone_label: str
    from_: IsoTime = field(name="from")
    to: IsoTime
    as_of: IsoTime
    total: int
    counts: Annotated[dict[str, int], describe("by status")]
    by_category: dict[str, int]
    unhandled: list[UnhandledIncident]
    median_minutes_to_first_action: float | None
    median_minutes_to_done: float | None
    direct_total: Annotated[int, describe("incidents of the unit itself, not of a unit below")]
    children: list[RecapChild]
