"""Use case "weekly recap": what happened to the calls of one unit in one ISO week.

The week is taken in the unit's *local* time (``geo.timezones``: Bali = WITA, UTC+8): week W
runs Monday 00:00 local to the next Monday 00:00 local, and an incident belongs to it by its
``reported_at``. Every figure is computed from the incident rows (whose status and times are
kept from the event log, see ``services.incidents``): the same log gives the same recap.

* ``counts``: incidents by current status, all four statuses present.
* ``by_category``: incidents by category, every category present.
* ``unhandled``: incidents of the week still ``belum_ditangani`` now, oldest first, with their age.
* ``median_minutes_to_first_action`` / ``median_minutes_to_done``: median of
  ``first_action_at - reported_at`` / ``done_at - reported_at`` over the week's incidents that
  have them (null when none), rounded to 0.1 minute.
* ``children``: each unit directly below, ranked by total (descending) then code, with the same
  figures; ``direct_total`` counts incidents assigned to the unit itself, not to a child.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from geo_service.errors import BadRequest, InvalidInput, NotFound
from geo_service.geo.index import JurisdictionIndex
from geo_service.geo.timezones import format_iso_week, local_week_bounds, parse_iso_week, zone_for_unit
from geo_service.services.incidents import (
    CATEGORIES,
    OPEN,
    STATUSES,
    csv_safe,
    incident_in_scope,
    is_overdue,
)
from geo_service.storage.incidents import incidents_reported_between
from geo_service.storage.models import Incident


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60.0


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def summarize(incidents: Sequence[Incident]) -> dict[str, Any]:
    """Counts by status and category, and the two medians, of a list of incidents."""
    counts = dict.fromkeys(STATUSES, 0)
    by_category = dict.fromkeys(CATEGORIES, 0)
    to_first: list[float] = []
    to_done: list[float] = []
    for inc in incidents:
        counts[inc.status] = counts.get(inc.status, 0) + 1
        by_category[inc.category] = by_category.get(inc.category, 0) + 1
        if inc.first_action_at is not None:
            to_first.append(_minutes(inc.first_action_at - inc.reported_at))
        if inc.done_at is not None:
            to_done.append(_minutes(inc.done_at - inc.reported_at))
    return {
        "total": len(incidents),
        "counts": counts,
        "by_category": by_category,
        "median_minutes_to_first_action": _median(to_first),
        "median_minutes_to_done": _median(to_done),
    }


def resolve_week(week: str | None, unit_code: str, now: datetime) -> tuple[int, int]:
    """``(year, week)`` from ``YYYY-Www`` (400 when malformed), default: the current local week."""
    if week is None or week == "":
        local = now.astimezone(zone_for_unit(unit_code).tz).isocalendar()
        return local[0], local[1]
    try:
        return parse_iso_week(week)
    except ValueError as exc:
        raise BadRequest(str(exc), code="INVALID_WEEK", errors=[{"pointer": "?week", "detail": str(exc)}]) from None


def weekly_recap(
    session: Session,
    index: JurisdictionIndex,
    *,
    unit_code: str,
    week: str | None,
    now: datetime,
    overdue_minutes: int,
    index_at: Callable[[datetime], JurisdictionIndex] | None = None,
) -> dict[str, Any]:
    """The recap of ``unit_code`` (and every unit below it) for an ISO week (see the module docstring).

    With ``index_at`` (``IndexHolder.index_at``) the units are those of the boundary set in force
    at the start of that week, so a past week is counted with that week's structure.
    """
    if index_at is not None:
        try:
            index = index_at(local_week_bounds(*resolve_week(week, unit_code, now), zone_for_unit(unit_code))[0])
        except KeyError:
            pass  # unknown province: reported below with the published set
    if unit_code not in index.units:
        raise NotFound(f"unit {unit_code!r} is not in the published boundary set", code="UNIT_NOT_FOUND")
    try:
        zone = zone_for_unit(unit_code)
    except KeyError as exc:
        raise InvalidInput(str(exc.args[0]), code="UNKNOWN_TIME_ZONE",
                           errors=[{"pointer": "?unit", "detail": "no time zone for this province"}]) from None
    year, wk = resolve_week(week, unit_code, now)
    start, end = local_week_bounds(year, wk, zone)
    incidents = incidents_reported_between(session, unit_code, start, end)
    unit = index.units[unit_code]
    summary = summarize(incidents)
    unhandled = [
        {
            "id": inc.id,
            "reported_at": inc.reported_at.astimezone(zone.tz).isoformat(),
            "age_minutes": int(_minutes(now - inc.reported_at)),
            "category": inc.category,
            "unit_code": inc.unit_code,
            "overdue": is_overdue(inc, now, overdue_minutes),
            "description": inc.description,
        }
        for inc in incidents if inc.status == OPEN
    ]
    children = []
    placed = 0
    for child in index.children(unit_code):
        mine = [inc for inc in incidents if incident_in_scope(inc, child.code)]
        placed += len(mine)
        children.append({"code": child.code, "name": child.name, "level": child.level, **summarize(mine),
                         "unhandled": sum(1 for inc in mine if inc.status == OPEN)})
    children.sort(key=lambda c: (-c["total"], c["code"]))
    return {
        "unit": {"code": unit.code, "name": unit.name, "level": unit.level},
        "week": format_iso_week(year, wk),
        "timezone": zone.iana,
        "timezone_label": zone.label,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "as_of": now.astimezone(zone.tz).isoformat(),
        "total": summary["total"],
        "counts": summary["counts"],
        "by_category": summary["by_category"],
        "unhandled": unhandled,
        "median_minutes_to_first_action": summary["median_minutes_to_first_action"],
        "median_minutes_to_done": summary["median_minutes_to_done"],
        "direct_total": summary["total"] - placed,
        "children": children,
    }


RECAP_CSV_COLUMNS = (
    "row", "unit_code", "unit_name", "week", "total", *STATUSES, *(f"category_{c}" for c in CATEGORIES),
    "median_minutes_to_first_action", "median_minutes_to_done", "unhandled",
)


def recap_csv(recap: dict[str, Any]) -> str:
    """The recap as CSV: one ``unit`` row for the unit itself, then one ``child`` row per child, in rank order."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(RECAP_CSV_COLUMNS)

    def row(kind: str, code: str, name: str, part: dict[str, Any], unhandled: int) -> list[Any]:
        medians = [part["median_minutes_to_first_action"], part["median_minutes_to_done"]]
        return [kind, code, name, recap["week"], part["total"], *(part["counts"][s] for s in STATUSES),
                *(part["by_category"].get(c, 0) for c in CATEGORIES),
                *("" if m is None else m for m in medians), unhandled]

    # Unit names come from uploaded boundary files: no cell may start a spreadsheet formula.
    writer.writerow(map(csv_safe, row("unit", recap["unit"]["code"], recap["unit"]["name"], recap,
                                       len(recap["unhandled"]))))
    for child in recap["children"]:
        writer.writerow(map(csv_safe, row("child", child["code"], child["name"], child, child["unhandled"])))
    return buf.getvalue()


#: Upper bounds (minutes, exclusive) of the time-to-first-action buckets; the last bucket is open-ended and
#: "open" holds the incidents still waiting for a first action.
FIRST_ACTION_BUCKETS: tuple[tuple[str, float | None], ...] = (
    ("lt15", 15), ("15_30", 30), ("30_60", 60), ("60_120", 120), ("120_240", 240), ("gt240", None),
)
TREND_WEEKS = 8


def first_action_histogram(incidents: Sequence[Incident]) -> dict[str, int]:
    """Incidents per time-to-first-action bucket (``FIRST_ACTION_BUCKETS`` keys, plus ``open``).

    A bucket holds ``lower <= minutes < upper``; an incident still ``belum_ditangani`` without a
    first action counts as ``open``; a cancelled one that never had a first action is left out.
    """
    out = dict.fromkeys([key for key, _ in FIRST_ACTION_BUCKETS] + ["open"], 0)
    for inc in incidents:
        if inc.first_action_at is None:
            if inc.status == OPEN:
                out["open"] += 1
            continue
        minutes = _minutes(inc.first_action_at - inc.reported_at)
        key = next(k for k, upper in FIRST_ACTION_BUCKETS if upper is None or minutes < upper)
        out[key] += 1
    return out


def status_by_unit(incidents: Sequence[Incident], index: JurisdictionIndex,
                   unit_code: str) -> list[dict[str, Any]]:
    """Counts by status for each unit directly below ``unit_code`` (code order)."""
    rows = []
    for child in sorted(index.children(unit_code), key=lambda u: u.code):
        counts = dict.fromkeys(STATUSES, 0)
        for inc in incidents:
            if incident_in_scope(inc, child.code):
                counts[inc.status] = counts.get(inc.status, 0) + 1
        rows.append({"code": child.code, "name": child.name, "counts": counts})
    return rows


def trend_weeks(unit_code: str, now: datetime, week: str | None = None,
                weeks: int = TREND_WEEKS) -> list[tuple[str, datetime, datetime]]:
    """The ``weeks`` local ISO weeks ending with ``week`` (default: the current one): ``(label, start, end)``."""
    zone = zone_for_unit(unit_code)
    year, wk = resolve_week(week, unit_code, now)
    last_start, _ = local_week_bounds(year, wk, zone)
    out = []
    for back in range(weeks - 1, -1, -1):
        iso = (last_start - timedelta(days=7 * back) + timedelta(hours=12)).isocalendar()
        start, end = local_week_bounds(iso[0], iso[1], zone)
        out.append((format_iso_week(iso[0], iso[1]), start, end))
    return out


def weekly_trend(incidents: Sequence[Incident],
                 weeks: Sequence[tuple[str, datetime, datetime]]) -> list[dict[str, Any]]:
    """Counts by status per week (``weeks`` from ``trend_weeks``), by ``reported_at``."""
    rows = []
    for label_, start, end in weeks:
        counts = dict.fromkeys(STATUSES, 0)
        for inc in incidents:
            if start <= inc.reported_at < end:
                counts[inc.status] = counts.get(inc.status, 0) + 1
        rows.append({"week": label_, "counts": counts})
    return rows


def recap_chart_data(session: Session, index: JurisdictionIndex, recap: dict[str, Any],
                     now: datetime) -> dict[str, Any]:
    """The three pictures of a recap: status by child unit and first-action times of its week, 8-week trend."""
    unit_code = recap["unit"]["code"]
    weeks = trend_weeks(unit_code, now, recap["week"])
    incidents = incidents_reported_between(session, unit_code, weeks[0][1], weeks[-1][2])
    start, end = weeks[-1][1], weeks[-1][2]
    this_week = [inc for inc in incidents if start <= inc.reported_at < end]
    return {"by_unit": status_by_unit(this_week, index, unit_code), "trend": weekly_trend(incidents, weeks),
            "first_action": first_action_histogram(this_week)}


__all__ = ["FIRST_ACTION_BUCKETS", "RECAP_CSV_COLUMNS", "first_action_histogram", "recap_chart_data", "recap_csv",
           "resolve_week", "status_by_unit", "summarize", "trend_weeks", "weekly_recap", "weekly_trend"]
