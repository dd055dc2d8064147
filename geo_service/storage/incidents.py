"""Queries on the incident log: filters, pages, the conditional version update, the demo clean-up.

Unit scope in SQL: an incident belongs to unit ``code`` when its Polda, Polres, Polsek or
responsible unit code is ``code`` or starts with ``<code>.`` (``services.incidents`` states the
same rule for one row).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, true, update
from sqlalchemy.orm import Session

from geo_service.storage.models import Incident, IncidentEvent

#: The stored statuses (the workflow between them is in ``services.incidents``); an overdue incident is
#: still the first one.
STATUSES = ("belum_ditangani", "dalam_proses", "selesai", "dibatalkan")
OPEN = STATUSES[0]


@dataclass(frozen=True)
class IncidentQuery:
    """Filters of the incident list (all optional)."""

    unit: str | None = None
    status: str | None = None
    category: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    overdue: bool | None = None


def _like_prefix(code: str) -> str:
    escaped = code.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + ".%"


def unit_filter(code: str) -> ColumnElement[bool]:
    """SQL condition: the incident belongs to unit ``code`` or a unit below it."""
    pattern = _like_prefix(code)
    columns = (Incident.polda_code, Incident.polres_code, Incident.polsek_code, Incident.unit_code)
    return or_(*[or_(col == code, col.like(pattern, escape="\\")) for col in columns])


def _conditions(q: IncidentQuery, *, overdue_before: datetime) -> ColumnElement[bool]:
    conds: list[ColumnElement[bool]] = []
    if q.unit is not None:
        conds.append(unit_filter(q.unit))
    if q.status is not None:
        conds.append(Incident.status == q.status)
    if q.category is not None:
        conds.append(Incident.category == q.category)
    if q.date_from is not None:
        conds.append(Incident.reported_at >= q.date_from)
    if q.date_to is not None:
        conds.append(Incident.reported_at < q.date_to)
    if q.overdue is not None:
        overdue = and_(Incident.status == OPEN, Incident.reported_at < overdue_before)
        conds.append(overdue if q.overdue else ~overdue)
    return and_(true(), *conds)


def incident_page(session: Session, query: IncidentQuery, *, overdue_before: datetime, limit: int,
                  offset: int) -> tuple[list[Incident], int]:
    """One page of matching incidents (newest call first) and the total count.

    ``overdue_before``: an open incident reported before this moment is overdue.
    """
    where = _conditions(query, overdue_before=overdue_before)
    total = int(session.execute(select(func.count()).select_from(Incident).where(where)).scalar_one())
    rows = session.execute(
        select(Incident).where(where).order_by(Incident.reported_at.desc(), Incident.id.desc())
        .limit(limit).offset(offset)
    ).scalars()
    return list(rows), total


def iter_matching(session: Session, query: IncidentQuery, *, overdue_before: datetime,
                  limit: int) -> Iterator[Incident]:
    """Every matching incident (newest call first), at most ``limit``."""
    stmt = (select(Incident).where(_conditions(query, overdue_before=overdue_before))
            .order_by(Incident.reported_at.desc(), Incident.id.desc()).limit(limit))
    yield from session.execute(stmt).scalars()


def incidents_reported_between(session: Session, unit_code: str, start: datetime, end: datetime) -> list[Incident]:
    """The incidents of unit ``unit_code`` (or below) reported in ``[start, end)``, oldest first."""
    return list(session.execute(
        select(Incident)
        .where(unit_filter(unit_code), Incident.reported_at >= start, Incident.reported_at < end)
        .order_by(Incident.reported_at, Incident.id)
    ).scalars())


def list_events(session: Session, incident_id: int) -> list[IncidentEvent]:
    """The incident's events, oldest first."""
    return list(session.execute(
        select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)
        .order_by(IncidentEvent.at, IncidentEvent.id)
    ).scalars())


def last_event_at(session: Session, incident_id: int, *, kinds: Sequence[str], not_actor: str,
                  after: datetime) -> datetime | None:
    """When the latest event of ``kinds`` by anyone but ``not_actor`` happened after ``after`` (None: none did)."""
    return session.execute(
        select(IncidentEvent.at).where(IncidentEvent.incident_id == incident_id, IncidentEvent.kind.in_(kinds),
                                       IncidentEvent.actor != not_actor, IncidentEvent.at > after)
        .order_by(IncidentEvent.at.desc()).limit(1)
    ).scalar_one_or_none()


def update_if_version(session: Session, incident_id: int, expected: int, values: dict[str, Any]) -> bool:
    """``UPDATE incidents SET values WHERE id = :id AND version = :expected``; True when the row matched."""
    result = session.execute(
        update(Incident).where(Incident.id == incident_id, Incident.version == expected)
        .values(**values).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def current_version(session: Session, incident_id: int) -> int | None:
    """The stored version of an incident (None when it does not exist)."""
    return session.execute(select(Incident.version).where(Incident.id == incident_id)).scalar_one_or_none()


def incidents_by_id(session: Session, incident_ids: Sequence[int]) -> dict[int, Incident]:
    """The stored incidents among ``incident_ids``, by id."""
    rows = session.execute(select(Incident).where(Incident.id.in_(list(incident_ids)))).scalars()
    return {row.id: row for row in rows}


def delete_demo_incidents(session: Session) -> int:
    """Delete the demo incidents and their events; returns how many incidents were deleted."""
    demo_ids = select(Incident.id).where(Incident.demo == true())
    session.execute(delete(IncidentEvent).where(IncidentEvent.incident_id.in_(demo_ids))
                    .execution_options(synchronize_session=False))
    result = session.execute(delete(Incident).where(Incident.demo == true())
                             .execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
